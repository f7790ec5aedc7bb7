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
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Lettuce with a Sentinel RedisURI (RedisURI.Builder.sentinel) against a real quorum of three
 * sentinels: the spans name the master the sentinels report, and the sentinel connection's own
 * traffic (SENTINEL get-master-addr-by-name ...) is not an operation.
 */
class LettuceSentinelTest {
  static final AttributeKey<String> ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("db.operation.name");
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

  static void spansNameTheMaster(Function<RedisURI, StatefulRedisConnection<String, String>> connect) {
    RedisServer master = sentinels.master();
    TestTelemetry.reset();
    long sentinelDurations =
        TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "SENTINEL"));
    try (StatefulRedisConnection<String, String> c = connect.apply(sentinelUri())) {
      c.sync().incr("lettuce-sentinel-spans");
      c.sync().incr("lettuce-sentinel-spans");
    }
    List<SpanData> spans = TestTelemetry.awaitSpans(2, Duration.ofSeconds(5));
    TestTelemetry.sleep(200); // a late sentinel span would show by now
    spans = TestTelemetry.spans();
    assertThat(spans).extracting(s -> s.getAttributes().get(OPERATION)).containsExactly("INCR", "INCR");
    for (SpanData s : spans) {
      assertThat(s.getAttributes().get(ADDRESS)).isEqualTo("127.0.0.1");
      assertThat(s.getAttributes().get(PORT)).isEqualTo((long) master.port());
    }
    for (int p : sentinels.sentinelPorts()) {
      assertThat(TestTelemetry.durationCount(TestTelemetry.attr("server.port", p))).isZero();
    }
    assertThat(TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "SENTINEL")))
        .isEqualTo(sentinelDurations);
  }

  @Test
  void standaloneSpansNameTheMasterAndSentinelTrafficIsNoOperation() {
    spansNameTheMaster(uri -> client.connect(uri));
  }

  @Test
  void masterReplicaSpansNameTheMasterAndSentinelTrafficIsNoOperation() {
    spansNameTheMaster(uri -> MasterReplica.connect(client, StringCodec.UTF8, uri));
  }
}
