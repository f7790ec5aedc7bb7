package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisSentinels;
import dev.redisresilience.harness.RedisServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
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

  static Set<HostAndPort> sentinelAddresses() {
    return sentinels.sentinelPorts().stream()
        .map(p -> new HostAndPort("127.0.0.1", p))
        .collect(Collectors.toSet());
  }

  /** One INCR through the client under test. */
  interface Client extends AutoCloseable {
    long incr(String key);

    @Override
    void close();
  }

  static Client pool() {
    JedisSentinelPool pool =
        new JedisSentinelPool(
            RedisSentinels.MASTER_NAME,
            sentinelAddresses(),
            DefaultJedisClientConfig.builder().build(),
            DefaultJedisClientConfig.builder().build());
    return new Client() {
      @Override
      public long incr(String key) {
        try (Jedis j = pool.getResource()) {
          return j.incr(key);
        }
      }

      @Override
      public void close() {
        pool.close();
      }
    };
  }

  /** JedisSentineled (4.4-7) or RedisSentinelClient (7.2+), as the version under test has. */
  static Client unified() {
    UnifiedJedis u;
    try {
      try {
        Object b = Class.forName("redis.clients.jedis.RedisSentinelClient").getMethod("builder").invoke(null);
        Class<?> builder = Class.forName("redis.clients.jedis.builders.SentinelClientBuilder");
        builder.getMethod("masterName", String.class).invoke(b, RedisSentinels.MASTER_NAME);
        builder.getMethod("sentinels", Set.class).invoke(b, sentinelAddresses());
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
                            sentinelAddresses(),
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
      assertThat(TestTelemetry.durationCount(TestTelemetry.attr("server.port", p))).isZero();
    }
    assertThat(TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "SENTINEL")))
        .isEqualTo(sentinelDurations);
  }

  @Test
  void poolSpansNameTheMasterAndSentinelTrafficIsNoOperation() {
    spansNameTheMaster(JedisSentinelTest::pool);
  }

  @Test
  void unifiedSpansNameTheMasterAndSentinelTrafficIsNoOperation() {
    spansNameTheMaster(JedisSentinelTest::unified);
  }

  static void failoverUnderLoad(Supplier<Client> clients, String key) throws Exception {
    RedisServer old = sentinels.master();
    try (PolicyOverride p =
            PolicyOverride.with(
                "retry.max-attempts", "10",
                "retry.backoff.max", "500ms",
                // NOREPLICAS: the harness' masters refuse writes without their replica
                "retry.on", "connection,timeout,MASTERDOWN,READONLY,NOREPLICAS");
        Client c = clients.get()) {
      c.incr(key); // 1, before the load
      AtomicLong acknowledged = new AtomicLong(1);
      AtomicLong failed = new AtomicLong();
      AtomicBoolean stop = new AtomicBoolean();
      long retriesBefore = TestTelemetry.counter("redis.client.retries", ROLE_REFUSAL);
      long recoveredBefore = TestTelemetry.counter("redis.client.retries", RECOVERED);
      long downtimeBefore =
          TestTelemetry.histogramCount(
              "redis.client.connection.downtime", TestTelemetry.attr("server.port", old.port()));
      TestTelemetry.reset();
      List<Thread> load = new ArrayList<>();
      long loadDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      for (int t = 0; t < 2; t++) {
        Thread th =
            new Thread(
                () -> {
                  for (int i = 0; i < 5000 && !stop.get() && System.nanoTime() < loadDeadline; i++) {
                    try {
                      c.incr(key);
                      acknowledged.incrementAndGet();
                    } catch (RuntimeException e) {
                      failed.incrementAndGet(); // refused past the retry policy: counted, not hidden
                    }
                    TestTelemetry.sleep(5);
                  }
                });
        th.start();
        load.add(th);
      }
      TestTelemetry.sleep(500);
      RedisServer next = sentinels.failover();
      // the load runs on until the client has switched (its +switch-master listener), and after
      long switchDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (TestTelemetry.logCount(FAILOVER) == 0 && System.nanoTime() < switchDeadline) {
        TestTelemetry.sleep(20);
      }
      TestTelemetry.sleep(1500);
      stop.set(true);
      for (Thread th : load) {
        th.join(TimeUnit.SECONDS.toMillis(30));
      }
      // the app recovered by itself: within 10 s a call after the failover succeeds, on the new
      // master (a pooled connection borrowed during the switch may still point at the old one)
      long last = -1;
      long recoverDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (last < 0) {
        try {
          last = c.incr(key);
          acknowledged.incrementAndGet();
        } catch (RuntimeException e) {
          failed.incrementAndGet();
          if (System.nanoTime() > recoverDeadline) {
            throw e;
          }
          TestTelemetry.sleep(100);
        }
      }
      long onNewMaster = next.getLong(key);
      assertThat(onNewMaster).isEqualTo(last);
      // nothing ran twice: the counter is at most the calls that may have run; and nothing
      // acknowledged is lost beyond what Redis' asynchronous replication may drop at a forced
      // failover (the old master's last acknowledged writes not yet on the replica: seen 0-1)
      assertThat(onNewMaster).isLessThanOrEqualTo(acknowledged.get() + failed.get());
      assertThat(onNewMaster).isGreaterThanOrEqualTo(acknowledged.get() - 2);
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
      // (a retry on the same connection recovers only once that server takes writes again)
      long retries = TestTelemetry.counter("redis.client.retries", ROLE_REFUSAL) - retriesBefore;
      long recovered = TestTelemetry.counter("redis.client.retries", RECOVERED) - recoveredBefore;
      assertThat(retries).isPositive();
      Set<Long> ports = new HashSet<>();
      TestTelemetry.spans().forEach(s -> ports.add(s.getAttributes().get(PORT)));
      assertThat(ports).containsOnly((long) old.port(), (long) next.port());
      System.out.println(
          "failover " + old.port() + " -> " + next.port() + ": acknowledged " + acknowledged
              + ", failed " + failed + ", role-refusal retries " + retries + " (" + recovered
              + " recovered), downtime " + downtime + " s");
    }
  }

  @Test
  // not in the default build: on a loaded 2-core machine the sentinels' failover sometimes does
  // not complete within 30 s and leaves the quorum unusable; run with -Dsentinel.failover=true
  @EnabledIfSystemProperty(named = "sentinel.failover", matches = "true")
  void poolFailoverUnderLoadLosesNothingAndRunsNothingTwice() throws Exception {
    failoverUnderLoad(JedisSentinelTest::pool, "sentinel-pool-counter");
  }

  @Test
  // not in the default build: on a loaded 2-core machine the sentinels' failover sometimes does
  // not complete within 30 s and leaves the quorum unusable; run with -Dsentinel.failover=true
  @EnabledIfSystemProperty(named = "sentinel.failover", matches = "true")
  void unifiedFailoverUnderLoadLosesNothingAndRunsNothingTwice() throws Exception {
    failoverUnderLoad(JedisSentinelTest::unified, "sentinel-unified-counter");
  }
}
