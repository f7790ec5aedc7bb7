package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.FailoverLoad;
import dev.redisresilience.harness.RedisSentinels;
import dev.redisresilience.harness.RedisServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisSentinelPool;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.providers.SentineledConnectionProvider;

/**
 * Sentinel-managed Jedis (JedisSentinelPool; UnifiedJedis over SentineledConnectionProvider, which
 * JedisSentineled / RedisSentinelClient wrap) against a real quorum of three sentinels: the spans
 * name the current master, sentinel traffic is not an operation, and a SENTINEL FAILOVER under
 * load loses no acknowledged INCR, runs none twice and is one failover record.
 */
class JedisSentinelTest {
  static final String FAILOVER = "redis.client.sentinel.failover";
  static final AttributeKey<String> ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("db.operation.name");
  static final AttributeKey<Long> PREVIOUS_PORT =
      AttributeKey.longKey("redis.client.sentinel.previous_master.port");
  static final AttributeKey<Double> DOWNTIME = AttributeKey.doubleKey("redis.client.connection.downtime");
  static final Set<String> ROLE_REFUSALS = Set.of("NOREPLICAS", "READONLY", "MASTERDOWN");
  static final Predicate<Attributes> ROLE_REFUSAL =
      a -> ROLE_REFUSALS.contains(a.get(AttributeKey.stringKey("error.type")));
  static final Predicate<Attributes> RECOVERED =
      ROLE_REFUSAL.and(TestTelemetry.attr("redis.client.retry.outcome", "success"));
  static RedisSentinels sentinels;

  @BeforeAll
  static void start() {
    sentinels = RedisSentinels.start();
  }

  @AfterAll
  static void stop() {
    sentinels.close();
  }

  static Set<HostAndPort> sentinelAddresses(RedisSentinels sentinels) {
    return sentinels.sentinelPorts().stream()
        .map(p -> new HostAndPort("127.0.0.1", p))
        .collect(Collectors.toSet());
  }

  /** One INCR through the client under test. */
  interface Client extends AutoCloseable {
    long incr(String key);

    /**
     * One INCR as an application that keeps a connection for a batch of commands does (a pool
     * client borrows once per 200 calls on this thread), so a borrow spans the switch.
     */
    default long incrOnHeldConnection(String key) {
      return incr(key);
    }

    @Override
    void close();
  }

  static Client pool(RedisSentinels sentinels) {
    JedisSentinelPool pool =
        new JedisSentinelPool(
            RedisSentinels.MASTER_NAME,
            sentinelAddresses(sentinels),
            DefaultJedisClientConfig.builder().build(),
            DefaultJedisClientConfig.builder().build());
    ThreadLocal<Jedis> held = new ThreadLocal<>();
    ThreadLocal<int[]> heldCalls = ThreadLocal.withInitial(() -> new int[1]);
    return new Client() {
      @Override
      public long incr(String key) {
        try (Jedis j = pool.getResource()) {
          return j.incr(key);
        }
      }

      @Override
      public long incrOnHeldConnection(String key) {
        Jedis j = held.get();
        if (j == null) {
          j = pool.getResource();
          held.set(j);
        }
        try {
          return j.incr(key);
        } finally {
          if (++heldCalls.get()[0] % 200 == 0) {
            held.remove();
            j.close(); // back to the pool
          }
        }
      }

      @Override
      public void close() {
        pool.close();
      }
    };
  }

  /** JedisSentineled (4.4-7) or RedisSentinelClient (7.2+), as the version under test has. */
  static Client unified(RedisSentinels sentinels) {
    UnifiedJedis u;
    try {
      try {
        Object b = Class.forName("redis.clients.jedis.RedisSentinelClient").getMethod("builder").invoke(null);
        Class<?> builder = Class.forName("redis.clients.jedis.builders.SentinelClientBuilder");
        builder.getMethod("masterName", String.class).invoke(b, RedisSentinels.MASTER_NAME);
        builder.getMethod("sentinels", Set.class).invoke(b, sentinelAddresses(sentinels));
        u = (UnifiedJedis) builder.getMethod("build").invoke(b);
      } catch (ClassNotFoundException e) {
        u =
            (UnifiedJedis)
                Class.forName("redis.clients.jedis.JedisSentineled")
                    .getConstructor(SentineledConnectionProvider.class)
                    .newInstance(
                        new SentineledConnectionProvider(
                            RedisSentinels.MASTER_NAME,
                            DefaultJedisClientConfig.builder().build(),
                            sentinelAddresses(sentinels),
                            DefaultJedisClientConfig.builder().build()));
      }
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
    UnifiedJedis client = u;
    return new Client() {
      @Override
      public long incr(String key) {
        return client.incr(key);
      }

      @Override
      public void close() {
        client.close();
      }
    };
  }

  static void spansNameTheMaster(Supplier<Client> clients) {
    RedisServer master = sentinels.master();
    TestTelemetry.reset();
    long sentinelDurations =
        TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "SENTINEL"));
    // cumulative per JVM: an earlier test's server may have had a sentinel's port
    java.util.Map<Integer, Long> perSentinelBefore = new java.util.HashMap<>();
    for (int p : sentinels.sentinelPorts()) {
      perSentinelBefore.put(p, TestTelemetry.durationCount(TestTelemetry.attr("server.port", p)));
    }
    try (Client c = clients.get()) {
      c.incr("sentinel-spans");
      c.incr("sentinel-spans");
      TestTelemetry.sleep(300); // the sentinel listeners have subscribed by now
    }
    List<SpanData> spans = TestTelemetry.spans();
    // only the two INCRs: no SENTINEL get-master-addr-by-name, no SUBSCRIBE +switch-master
    assertThat(spans).extracting(s -> s.getAttributes().get(OPERATION)).containsExactly("INCR", "INCR");
    for (SpanData s : spans) {
      assertThat(s.getAttributes().get(ADDRESS)).isEqualTo("127.0.0.1");
      assertThat(s.getAttributes().get(PORT)).isEqualTo((long) master.port());
    }
    for (int p : sentinels.sentinelPorts()) {
      assertThat(TestTelemetry.durationCount(TestTelemetry.attr("server.port", p)))
          .isEqualTo(perSentinelBefore.get(p));
    }
    assertThat(TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "SENTINEL")))
        .isEqualTo(sentinelDurations);
  }

  @Test
  @Timeout(60)
  void poolSpansNameTheMasterAndSentinelTrafficIsNoOperation() {
    spansNameTheMaster(() -> pool(sentinels));
  }

  @Test
  @Timeout(60)
  void unifiedSpansNameTheMasterAndSentinelTrafficIsNoOperation() {
    spansNameTheMaster(() -> unified(sentinels));
  }

  /** Retry decisions (retried or refused) after a READONLY, counted since the JVM started. */
  static long readonlyRetries() {
    return TestTelemetry.counter("redis.client.retries", TestTelemetry.attr("error.type", "READONLY"));
  }

  /**
   * The kind of a call whose connection broke after it was sent: its outcome is unknown, and the
   * agent does not re-run an INCR then (a retry decision with outcome not_idempotent).
   */
  static final String CONNECTION_LOST = "CONNECTION_LOST";

  /**
   * A failed call's first word (READONLY, NOREPLICAS ...), {@link #CONNECTION_LOST}, or its
   * exception's simple name and message.
   */
  static String classify(RuntimeException e) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    String code = m.split(" ", 2)[0];
    if (ROLE_REFUSALS.contains(code)) {
      return code;
    }
    return e instanceof redis.clients.jedis.exceptions.JedisConnectionException
        ? CONNECTION_LOST
        : e.getClass().getSimpleName() + ": " + m;
  }

  /** Retry decisions that refused to re-run a call that may have run, since the JVM started. */
  static long notIdempotentRefusals() {
    return TestTelemetry.counter(
        "redis.client.retries", TestTelemetry.attr("redis.client.retry.outcome", "not_idempotent"));
  }

  /**
   * A SENTINEL FAILOVER under INCR load ({@link FailoverLoad}) on a quorum of its own (a second
   * failover on the same quorum waits for the sentinels to learn the demoted master as a
   * replica). Every acknowledged INCR is on the new master and none ran twice; calls that fail
   * are role refusals the server did not execute, or calls in flight when the old master dropped
   * their connection, which the agent does not re-run; once the failover is complete, calls succeed
   * without the application doing anything: a pooled connection borrowed across the switch still
   * reaches the demoted master and answers READONLY, and the agent retries on a new socket that
   * reaches the new master.
   */
  static void failoverUnderLoad(Function<RedisSentinels, Client> clients, String key) throws Exception {
    try (RedisSentinels own = RedisSentinels.start();
        PolicyOverride p =
            PolicyOverride.with(
                // enough to outlast a switch: Lettuce's Master/Replica refreshes its topology 5 s
                // after the sentinels' first event (a fixed delay)
                "retry.max-attempts", "30",
                "retry.backoff.max", "500ms",
                // NOREPLICAS: the harness' masters refuse writes without their replica
                "retry.on", "connection,timeout,MASTERDOWN,READONLY,NOREPLICAS");
        Client c = clients.apply(own)) {
      RedisServer old = own.master();
      long downtimeBefore =
          TestTelemetry.histogramCount(
              "redis.client.connection.downtime", TestTelemetry.attr("server.port", old.port()));
      TestTelemetry.reset();
      long retriesBefore = TestTelemetry.counter("redis.client.retries", ROLE_REFUSAL);
      long recoveredBefore = TestTelemetry.counter("redis.client.retries", RECOVERED);
      long readonlyBefore = readonlyRetries();
      long notIdempotentBefore = notIdempotentRefusals();
      FailoverLoad.Result r =
          FailoverLoad.run(
              own,
              key,
              (held, k) -> {
                if (held) {
                  c.incrOnHeldConnection(k);
                } else {
                  c.incr(k);
                }
              },
              () -> TestTelemetry.logCount(FAILOVER) > 0,
              JedisSentinelTest::classify);
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
      assertThat(r.failedAfterFailover).as("calls failed after the failover").isZero();
      assertThat(r.recoveredMillis).as("a call succeeded after the failover").isNotNegative();
      // every failed call was refused for the server's role (not executed), or was in flight when
      // the old master dropped its connection, and the agent refused to re-run it (it may have
      // run once); nothing failed with an unclassified error
      long connectionLost = r.failed(Set.of(CONNECTION_LOST));
      assertThat(r.failed(ROLE_REFUSALS) + connectionLost)
          .as("failures " + r.failures)
          .isEqualTo(r.failed());
      assertThat(connectionLost)
          .as("connection-lost failures the agent decided not to re-run")
          .isLessThanOrEqualTo(notIdempotentRefusals() - notIdempotentBefore);
      // a role refusal never ran: only a call of unknown outcome may have
      assertThat(data.failedButRan).as("failed calls that ran (%s)", r).isLessThanOrEqualTo(connectionLost);
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
      // the failover as downtime: from the old master's first refused write to the switch
      Double downtime = records.get(0).getAttributes().get(DOWNTIME);
      assertThat(downtime).isNotNull().isGreaterThan(0.0).isLessThan(60.0);
      assertThat(
              TestTelemetry.histogramCount(
                  "redis.client.connection.downtime", TestTelemetry.attr("server.port", old.port())))
          .isEqualTo(downtimeBefore + 1);
      // the refusals of the switch (NOREPLICAS, READONLY, MASTERDOWN) went to the retry policy
      assertThat(retries).isPositive();
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
  void poolFailoverUnderLoadLosesNothingAndRunsNothingTwice() throws Exception {
    failoverUnderLoad(JedisSentinelTest::pool, "sentinel-pool-counter");
  }

  @Test
  @Timeout(180)
  // not in the default build: on a loaded 2-core machine the sentinels' failover sometimes does
  // not complete within 30 s; run with -Dsentinel.failover=true
  @EnabledIfSystemProperty(named = "sentinel.failover", matches = "true")
  void unifiedFailoverUnderLoadLosesNothingAndRunsNothingTwice() throws Exception {
    failoverUnderLoad(JedisSentinelTest::unified, "sentinel-unified-counter");
  }
}
