package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.FailoverLoad;
import dev.redisresilience.harness.RedisSentinels;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.masterreplica.MasterReplica;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import java.util.List;
import java.util.stream.Collectors;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
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
  static final AttributeKey<Double> DOWNTIME = AttributeKey.doubleKey("redis.client.connection.downtime");
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
    return sentinelUri(sentinels);
  }

  static RedisURI sentinelUri(RedisSentinels sentinels) {
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
  @Timeout(60)
  void standaloneSpansNameTheMasterAndSentinelTrafficIsNoOperation() {
    spansNameTheMaster(uri -> client.connect(uri));
  }

  @Test
  @Timeout(60)
  void masterReplicaSpansNameTheMasterAndSentinelTrafficIsNoOperation() {
    RedisServer master = sentinels.master();
    TestTelemetry.reset();
    long sentinelDurations = sentinelDurations();
    long internal = internalDurations();
    try (StatefulRedisConnection<String, String> c =
        MasterReplica.connect(client, StringCodec.UTF8, sentinelUri())) {
      c.sync().incr("lettuce-sentinel-mr-spans");
      c.sync().incr("lettuce-sentinel-mr-spans");
      TestTelemetry.awaitSpans(2, Duration.ofSeconds(5));
      TestTelemetry.sleep(500); // the topology refresh's PSUBSCRIBE to the sentinels is out by now
    }
    TestTelemetry.sleep(200); // a late span would show by now
    // the application's two INCRs only: no SENTINEL MASTER / REPLICAS of the topology, no
    // PSUBSCRIBE of the sentinel watch, no PING or CLIENT SETNAME of the topology refresh
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(spans).extracting(s -> s.getAttributes().get(OPERATION)).containsExactly("INCR", "INCR");
    for (SpanData s : spans) {
      assertThat(s.getAttributes().get(ADDRESS)).isEqualTo("127.0.0.1");
      assertThat(s.getAttributes().get(PORT)).isEqualTo((long) master.port());
    }
    assertThat(sentinelDurations()).isEqualTo(sentinelDurations);
    assertThat(internalDurations()).isEqualTo(internal);
  }

  /** Durations of the commands only Lettuce's topology machinery sends. */
  static long internalDurations() {
    long n = 0;
    for (String op : List.of("PING", "CLIENT", "PSUBSCRIBE", "SUBSCRIBE", "INFO", "ROLE")) {
      n += TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", op));
    }
    return n;
  }

  static final Set<String> ROLE_REFUSALS = Set.of("NOREPLICAS", "READONLY", "MASTERDOWN");
  static final Predicate<Attributes> ROLE_REFUSAL =
      a -> ROLE_REFUSALS.contains(a.get(AttributeKey.stringKey("error.type")));
  static final Predicate<Attributes> RECOVERED =
      ROLE_REFUSAL.and(TestTelemetry.attr("redis.client.retry.outcome", "success"));

  /** Retry decisions (retried or refused) after a READONLY, counted since the JVM started. */
  static long readonlyRetries() {
    return TestTelemetry.counter("redis.client.retries", TestTelemetry.attr("error.type", "READONLY"));
  }

  /**
   * The kind of a call the agent refused to re-send because the connection broke after it was sent
   * (LettuceErrors.notReplayed): its outcome is unknown, it may have run once.
   */
  static final String OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN";

  /**
   * A failed call's first word (READONLY, NOREPLICAS ...), {@link #OUTCOME_UNKNOWN}, or its
   * exception's simple name and message.
   */
  static String classify(RuntimeException e) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    String code = m.split(" ", 2)[0];
    if (ROLE_REFUSALS.contains(code)) {
      return code;
    }
    if (m.contains("not re-sent: the connection was lost after it was sent, so it may have run")) {
      return OUTCOME_UNKNOWN;
    }
    return e.getClass().getSimpleName() + ": " + m;
  }

  /**
   * A SENTINEL FAILOVER under INCR load ({@link FailoverLoad}: 4 threads on the one connection)
   * on a quorum of its own. Every acknowledged INCR is on the new master and none ran twice;
   * calls that fail are role refusals the server did not execute, or calls in flight when the old
   * master dropped them, which the agent does not re-send (outcome unknown); once the failover is
   * complete, calls succeed without the application doing anything; the switch is one failover
   * record with its downtime.
   */
  static void failoverUnderLoad(
      BiFunction<RedisSentinels, RedisURI, StatefulRedisConnection<String, String>> connect, String key)
      throws Exception {
    try (RedisSentinels own = RedisSentinels.start();
        PolicyOverride p =
            PolicyOverride.with(
                // enough to outlast a switch: Lettuce's Master/Replica refreshes its topology 5 s
                // after the sentinels' first event (a fixed delay)
                "retry.max-attempts", "30",
                "retry.backoff.max", "500ms",
                // NOREPLICAS: the harness' masters refuse writes without their replica
                "retry.on", "connection,timeout,MASTERDOWN,READONLY,NOREPLICAS");
        StatefulRedisConnection<String, String> c = connect.apply(own, sentinelUri(own))) {
      RedisServer old = own.master();
      long downtimeBefore =
          TestTelemetry.histogramCount(
              "redis.client.connection.downtime", TestTelemetry.attr("server.port", old.port()));
      TestTelemetry.reset();
      long retriesBefore = TestTelemetry.counter("redis.client.retries", ROLE_REFUSAL);
      long recoveredBefore = TestTelemetry.counter("redis.client.retries", RECOVERED);
      long readonlyBefore = readonlyRetries();
      FailoverLoad.Result r =
          FailoverLoad.run(
              own, key, (held, k) -> c.sync().incr(k), () -> TestTelemetry.logCount(FAILOVER) > 0,
              LettuceSentinelTest::classify);
      RedisServer next = r.newMaster;
      FailoverLoad.Check data = r.check();
      long retries = TestTelemetry.counter("redis.client.retries", ROLE_REFUSAL) - retriesBefore;
      long recovered = TestTelemetry.counter("redis.client.retries", RECOVERED) - recoveredBefore;
      long readonly = readonlyRetries() - readonlyBefore;
      System.out.println(
          r + "; on the new master: " + data + "; role-refusal retry decisions " + retries
              + " (READONLY " + readonly + "; " + recovered + " calls recovered by a retry)");
      assertThat(TestTelemetry.logCount(FAILOVER)).as("failover records").isEqualTo(1);
      // the app recovered by itself: no call after the failover failed, and some ran
      assertThat(r.failedAfterFailover).as("calls failed after the failover " + r.failures).isZero();
      assertThat(r.recoveredMillis).as("a call succeeded after the failover").isNotNegative();
      // every failed call was refused for the server's role (not executed), or was in flight when
      // the old master dropped its connection and was not re-sent (it may have run once: seen 0-1
      // per run); nothing failed with an unclassified error
      long outcomeUnknown = r.failed(Set.of(OUTCOME_UNKNOWN));
      assertThat(r.failed(ROLE_REFUSALS) + outcomeUnknown)
          .as("failures " + r.failures)
          .isEqualTo(r.failed());
      // a role refusal never ran: only a call of unknown outcome may have
      assertThat(data.failedButRan).as("failed calls that ran (%s)", r).isLessThanOrEqualTo(outcomeUnknown);
      // one key per call, read on the new master: no INCR ran twice, and no write acknowledged
      // before the failover started or after it completed is lost. Writes the old master
      // acknowledged while the switch ran, before it was demoted, may be (asynchronous
      // replication at a forced failover; seen: 0-4 per run): counted, and bounded by that window.
      assertThat(data.ranTwice).as("INCRs that ran twice (%s)", r).isZero();
      assertThat(data.lostOutsideSwitch).as("acknowledged writes lost outside the switch (%s)", r).isZero();
      assertThat(data.lostDuringSwitch).isLessThanOrEqualTo(r.acknowledgedDuringSwitch);
      List<LogRecordData> records =
          TestTelemetry.logs().stream()
              .filter(l -> FAILOVER.equals(l.getEventName()))
              .collect(Collectors.toList());
      assertThat(records).hasSize(1);
      assertThat(records.get(0).getAttributes().get(PORT)).isEqualTo((long) next.port());
      assertThat(records.get(0).getAttributes().get(PREVIOUS_PORT)).isEqualTo((long) old.port());
      Double downtime = records.get(0).getAttributes().get(DOWNTIME);
      assertThat(downtime).isNotNull().isGreaterThan(0.0).isLessThan(60.0);
      assertThat(
              TestTelemetry.histogramCount(
                  "redis.client.connection.downtime", TestTelemetry.attr("server.port", old.port())))
          .isEqualTo(downtimeBefore + 1);
      assertThat(retries).isPositive();
      // the spans name the master of their time, never a sentinel
      Set<Long> ports = new HashSet<>();
      TestTelemetry.spans().forEach(s -> ports.add(s.getAttributes().get(PORT)));
      assertThat(ports).containsOnly((long) old.port(), (long) next.port());
    }
  }

  @Test
  @Timeout(180)
  // not in the default build: on a loaded 2-core machine the sentinels' failover sometimes does
  // not complete within 30 s; run with -Dsentinel.failover=true
  @EnabledIfSystemProperty(named = "sentinel.failover", matches = "true")
  void masterReplicaFailoverUnderLoadLosesNothingAndRunsNothingTwice() throws Exception {
    failoverUnderLoad(
        (own, uri) -> MasterReplica.connect(client, StringCodec.UTF8, uri), "lettuce-sentinel-mr-counter");
  }

  @Test
  @Timeout(180)
  // not in the default build: on a loaded 2-core machine the sentinels' failover sometimes does
  // not complete within 30 s; run with -Dsentinel.failover=true
  @EnabledIfSystemProperty(named = "sentinel.failover", matches = "true")
  void standaloneFailoverUnderLoadLosesNothingAndRunsNothingTwice() throws Exception {
    failoverUnderLoad((own, uri) -> client.connect(uri), "lettuce-sentinel-standalone-counter");
  }
}
