package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisSentinels;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.masterreplica.MasterReplica;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Lettuce with a Sentinel RedisURI (RedisURI.Builder.sentinel) against a real quorum of three
 * sentinels: the spans name the master the sentinels report, and the sentinel connection's own
 * traffic (SENTINEL get-master-addr-by-name ...) is not an operation.
 */
class LettuceSentinelTest {
  static final AttributeKey<String> ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("db.operation.name");
  static final String FAILOVER = "redis.client.sentinel.failover";
  static final AttributeKey<Long> PREVIOUS_PORT =
      AttributeKey.longKey("redis.client.sentinel.previous_master.port");
  static RedisSentinels sentinels;
  static RedisClient client;

  @BeforeAll
  static void start() {
    sentinels = RedisSentinels.start();
    client = RedisClient.create();
  }

  @AfterAll
  static void stop() {
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    sentinels.close();
  }

  static RedisURI sentinelUri() {
    List<Integer> ports = sentinels.sentinelPorts();
    RedisURI.Builder b = RedisURI.Builder.sentinel("127.0.0.1", ports.get(0), RedisSentinels.MASTER_NAME);
    for (int p : ports.subList(1, ports.size())) {
      b.withSentinel("127.0.0.1", p);
    }
    return b.build();
  }

  static long sentinelDurations() {
    long n = TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "SENTINEL"));
    for (int p : sentinels.sentinelPorts()) {
      n += TestTelemetry.durationCount(TestTelemetry.attr("server.port", p));
    }
    return n;
  }

  static void spansNameTheMaster(Function<RedisURI, StatefulRedisConnection<String, String>> connect) {
    RedisServer master = sentinels.master();
    TestTelemetry.reset();
    long sentinelDurations = sentinelDurations();
    try (StatefulRedisConnection<String, String> c = connect.apply(sentinelUri())) {
      c.sync().incr("lettuce-sentinel-spans");
      c.sync().incr("lettuce-sentinel-spans");
    }
    TestTelemetry.awaitSpans(2, Duration.ofSeconds(5));
    TestTelemetry.sleep(200); // a late sentinel span would show by now
    // no span to a sentinel: no SENTINEL get-master-addr-by-name, no PSUBSCRIBE of the watch
    List<Long> sentinelPorts = new ArrayList<>();
    sentinels.sentinelPorts().forEach(p -> sentinelPorts.add((long) p));
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(spans).extracting(s -> s.getAttributes().get(PORT)).doesNotContainAnyElementsOf(sentinelPorts);
    assertThat(spans).extracting(s -> s.getAttributes().get(OPERATION)).doesNotContain("SENTINEL", "PSUBSCRIBE");
    List<SpanData> incrs =
        spans.stream().filter(s -> "INCR".equals(s.getAttributes().get(OPERATION))).collect(Collectors.toList());
    assertThat(incrs).hasSize(2);
    for (SpanData s : incrs) {
      assertThat(s.getAttributes().get(ADDRESS)).isEqualTo("127.0.0.1");
      assertThat(s.getAttributes().get(PORT)).isEqualTo((long) master.port());
    }
    assertThat(sentinelDurations()).isEqualTo(sentinelDurations);
  }

  @Test
  void standaloneSpansNameTheMasterAndSentinelTrafficIsNoOperation() {
    spansNameTheMaster(uri -> client.connect(uri));
  }

  @Test
  // not in the default build: on a loaded 2-core machine the sentinels' failover sometimes does
  // not complete within 30 s and leaves the quorum unusable; run with -Dsentinel.failover=true
  @EnabledIfSystemProperty(named = "sentinel.failover", matches = "true")
  void masterReplicaFollowsAFailoverAndRecordsIt() {
    RedisServer old = sentinels.master();
    String key = "lettuce-sentinel-failover";
    try (StatefulRedisConnection<String, String> c =
        MasterReplica.connect(client, StringCodec.UTF8, sentinelUri())) {
      long before = c.sync().incr(key);
      TestTelemetry.reset();
      RedisServer next = sentinels.failover();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (TestTelemetry.logCount(FAILOVER) == 0 && System.nanoTime() < deadline) {
        TestTelemetry.sleep(20);
      }
      List<LogRecordData> records =
          TestTelemetry.logs().stream()
              .filter(l -> FAILOVER.equals(l.getEventName()))
              .collect(Collectors.toList());
      assertThat(records).hasSize(1);
      assertThat(records.get(0).getAttributes().get(PORT)).isEqualTo((long) next.port());
      assertThat(records.get(0).getAttributes().get(PREVIOUS_PORT)).isEqualTo((long) old.port());
      // the connection recovered by itself: the next INCR runs on the new master, exactly once
      TestTelemetry.reset();
      assertThat(c.sync().incr(key)).isEqualTo(before + 1);
      assertThat(next.getLong(key)).isEqualTo(before + 1);
      List<SpanData> incrs = TestTelemetry.awaitSpans(1, Duration.ofSeconds(5));
      assertThat(incrs.get(0).getAttributes().get(PORT)).isEqualTo((long) next.port());
    }
  }
}
