package dev.redisresilience.agent.instrumentation.jedis;

import static dev.redisresilience.agent.telemetry.TelemetryNames.HANDOFFS;
import static dev.redisresilience.agent.telemetry.TelemetryNames.HANDOFF_OUTCOME;
import static dev.redisresilience.agent.telemetry.TelemetryNames.LOG_CONNECTION_DOWN;
import static dev.redisresilience.agent.telemetry.TelemetryNames.LOG_MAINT_HANDOFF;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_HANDOFF_DURATION;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_NOTIFICATION;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_NOTIFICATIONS;
import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.MaintenanceNotification;
import dev.redisresilience.harness.MaintenanceSimulator;
import dev.redisresilience.harness.MaintenanceSimulator.ClientRecord;
import dev.redisresilience.harness.MaintenanceSimulator.Endpoint;
import dev.redisresilience.harness.Ports;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import redis.clients.jedis.BuilderFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.CommandObject;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.UnifiedJedis;

/**
 * MOVING hand-offs on Jedis 5.x-8.0.x over RESP3 (no released Jedis acts on MOVING): through the
 * maintenance simulator, whose TARGET redis-server is the endpoint the notification names. Proof
 * is read from the two redis-servers directly: every acknowledged INCR is on exactly one of them.
 * Not run on Jedis 4.x (no RESP3; the pom excludes it from that execution, and the condition
 * below keeps it out with -Dtest).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
@EnabledIf(value = "resp3Client", disabledReason = "Jedis 4.x has no RESP3: no MOVING can reach it")
class JedisMovingHandoffTest {
  static final String HOST = "127.0.0.1";
  static final AttributeKey<Long> PORT = AttributeKey.longKey("server.port");

  static boolean resp3Client() {
    return JedisMaintenanceResp3Test.resp3Client();
  }

  @BeforeEach
  void reset() {
    TestTelemetry.reset();
  }

  @AfterEach
  void forgetMoves() {
    JedisMoves.clear(); // the next test's simulator may get this one's loopback ports
  }

  static JedisClientConfig resp3() {
    return DefaultJedisClientConfig.builder().protocol(RedisProtocol.RESP3).build();
  }

  static Jedis resp3Jedis(MaintenanceSimulator sim) {
    return new Jedis(new HostAndPort(HOST, sim.primaryPort()), resp3());
  }

  static long handoffs(String outcome) {
    return TestTelemetry.counter(HANDOFFS, TestTelemetry.attr(HANDOFF_OUTCOME, outcome));
  }

  static long notifications(String type) {
    return TestTelemetry.counter(MAINT_NOTIFICATIONS, TestTelemetry.attr(MAINT_NOTIFICATION, type));
  }

  static void await(BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout + ": " + what);
      }
      TestTelemetry.sleep(5);
    }
  }

  /** Lets a queued frame reach the client's socket before its next command (no timing asserted). */
  static void settle() {
    TestTelemetry.sleep(200);
  }

  /** Hand-off durations (push to the first command on the new socket) in ms, from the log records. */
  static List<Double> handoffMillis() {
    List<Double> ms = new ArrayList<>();
    TestTelemetry.logs().stream()
        .filter(l -> LOG_MAINT_HANDOFF.equals(l.getEventName()))
        .forEach(l -> ms.add(l.getAttributes().get(AttributeKey.doubleKey(MAINT_HANDOFF_DURATION)) * 1000));
    return ms;
  }

  static long valueIn(MaintenanceSimulator sim, Endpoint e, int db, String key) {
    try (Jedis direct = new Jedis(HOST, sim.server(e).port())) {
      direct.select(db);
      String v = direct.get(key);
      return v == null ? 0 : Long.parseLong(v);
    }
  }

  /** An INCR client under load: borrows per command (a pool) and can hold all its connections at once. */
  interface LoadClient extends AutoCloseable {
    void incr(String key);

    /** Runs {@code key} INCR on every pooled connection, all borrowed at the same time; how many. */
    int incrOnEveryConnection(String key);

    @Override
    void close();
  }

  static final int THREADS = 4;

  @Test
  void aJedisPoolUnderLoadHandsOffToTheTargetWithoutLosingAnIncr() throws Exception {
    GenericObjectPoolConfig<Jedis> pc = new GenericObjectPoolConfig<>();
    pc.setMaxTotal(THREADS);
    pc.setMaxIdle(THREADS);
    handsOffUnderLoad(
        "JedisPool",
        sim -> {
          JedisPool pool = new JedisPool(pc, new HostAndPort(HOST, sim.primaryPort()), resp3());
          return new LoadClient() {
            @Override
            public void incr(String key) {
              try (Jedis j = pool.getResource()) {
                j.incr(key);
              }
            }

            @Override
            public int incrOnEveryConnection(String key) {
              List<Jedis> all = new ArrayList<>();
              for (int i = 0; i < THREADS; i++) {
                all.add(pool.getResource());
              }
              all.forEach(j -> j.incr(key));
              all.forEach(Jedis::close);
              return all.size();
            }

            @Override
            public void close() {
              pool.close();
            }
          };
        });
  }

  @Test
  void aPooledUnifiedJedisUnderLoadHandsOffToTheTargetWithoutLosingAnIncr() throws Exception {
    GenericObjectPoolConfig<Connection> pc = new GenericObjectPoolConfig<>();
    pc.setMaxTotal(THREADS);
    pc.setMaxIdle(THREADS);
    handsOffUnderLoad(
        "pooled UnifiedJedis",
        sim -> {
          UnifiedJedis client = UnifiedClients.pooled(new HostAndPort(HOST, sim.primaryPort()), resp3(), pc);
          return new LoadClient() {
            @Override
            public void incr(String key) {
              client.incr(key);
            }

            @Override
            @SuppressWarnings("unchecked")
            public int incrOnEveryConnection(String key) {
              // the pool's connections, all borrowed at once, each running one INCR as the client would
              Object provider;
              try {
                java.lang.reflect.Field f = UnifiedJedis.class.getDeclaredField("provider");
                f.setAccessible(true);
                provider = f.get(client);
              } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
              }
              List<Connection> all = new ArrayList<>();
              for (int i = 0; i < THREADS; i++) {
                all.add(((redis.clients.jedis.providers.ConnectionProvider) provider).getConnection());
              }
              all.forEach(
                  c ->
                      c.executeCommand(
                          new CommandObject<>(
                              new CommandArguments(Protocol.Command.INCR).key(key), BuilderFactory.LONG)));
              all.forEach(Connection::close);
              return all.size();
            }

            @Override
            public void close() {
              client.close();
            }
          };
        });
  }

  void handsOffUnderLoad(String name, java.util.function.Function<MaintenanceSimulator, LoadClient> clients)
      throws Exception {
    int perThread = 100;
    long successes = handoffs("success");
    long failures = handoffs("failure");
    try (MaintenanceSimulator sim = MaintenanceSimulator.start();
        LoadClient client = clients.apply(sim)) {
      AtomicLong acked = new AtomicLong();
      AtomicLong failed = new AtomicLong();
      List<Throwable> errors = new ArrayList<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      ExecutorService load = Executors.newFixedThreadPool(THREADS);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        done.add(
            load.submit(
                () -> {
                  for (int i = 0; i < perThread && System.nanoTime() < deadline; i++) {
                    try {
                      client.incr("n");
                      acked.incrementAndGet();
                    } catch (RuntimeException e) {
                      failed.incrementAndGet();
                      synchronized (errors) {
                        errors.add(e);
                      }
                    }
                    TestTelemetry.sleep(1); // paced: the MOVING comes while the load still runs
                  }
                }));
      }
      await(() -> acked.get() >= THREADS * perThread / 4, Duration.ofSeconds(20), "a quarter of the INCRs");
      int pushed = sim.pushToOptedIn(Endpoint.PRIMARY, MaintenanceNotification.moving(1, 15, sim.targetAddress()));
      long ackedAtPush = acked.get();
      for (Future<?> f : done) {
        f.get(40, TimeUnit.SECONDS);
      }
      load.shutdown();
      // every pooled connection used once more (the hand-off is lazy: at a connection's next use)
      acked.addAndGet(client.incrOnEveryConnection("n"));

      long onPrimary = sim.server(Endpoint.PRIMARY).getLong("n");
      long onTarget = sim.server(Endpoint.TARGET).getLong("n");
      List<ClientRecord> primaryConns = sim.clients(Endpoint.PRIMARY);
      await(() -> sim.clients(Endpoint.PRIMARY).stream().allMatch(ClientRecord::closed),
          Duration.ofSeconds(5), "every connection to the old endpoint closed: " + sim.clients(Endpoint.PRIMARY));
      System.out.printf(
          "%s hand-off: pushed to %d connections after %d INCRs; %d acked, %d failed; primary %d + target %d;"
              + " %d old connections closed, %d on the target; hand-offs (ms) %s%n",
          name, pushed, ackedAtPush, acked.get(), failed.get(), onPrimary, onTarget, primaryConns.size(),
          sim.clients(Endpoint.TARGET).size(), handoffMillis());

      assertThat(errors).isEmpty();
      assertThat(failed.get()).isZero();
      assertThat(pushed).isPositive();
      assertThat(onPrimary + onTarget).isEqualTo(acked.get());
      assertThat(onPrimary).isGreaterThanOrEqualTo(ackedAtPush);
      assertThat(onTarget).isGreaterThan(THREADS); // load after the push ran there, not just the last round
      assertThat(sim.clients(Endpoint.TARGET)).isNotEmpty().allMatch(r -> r.requestedProtocol() == 3);
      assertThat(handoffs("success") - successes).isEqualTo(primaryConns.size());
      assertThat(handoffs("failure") - failures).isZero();
      assertThat(TestTelemetry.logCount(LOG_CONNECTION_DOWN)).isZero(); // planned: no outage
      // spans after the hand-off name the new endpoint
      List<SpanData> spans = TestTelemetry.spans();
      SpanData last = spans.get(spans.size() - 1);
      assertThat(last.getAttributes().get(PORT)).isEqualTo((long) sim.targetPort());
    }
  }

  @Test
  void aPlainJedisHandsOffWithItsSelectedDatabase() {
    long successes = handoffs("success");
    try (MaintenanceSimulator sim = MaintenanceSimulator.start();
        Jedis jedis = resp3Jedis(sim)) {
      jedis.select(3);
      assertThat(jedis.incr("n")).isEqualTo(1);
      ClientRecord old = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));

      sim.push(old, MaintenanceNotification.moving(2, 15, sim.targetAddress()));
      settle();
      assertThat(jedis.incr("n")).isEqualTo(2); // was in flight when the push was read: the old endpoint
      assertThat(jedis.incr("m")).isEqualTo(1); // the next one: the target, in database 3
      SpanData last = TestTelemetry.spans().get(TestTelemetry.spans().size() - 1);
      assertThat(last.getAttributes().get(PORT)).isEqualTo((long) sim.targetPort());

      assertThat(valueIn(sim, Endpoint.PRIMARY, 3, "n")).isEqualTo(2);
      assertThat(valueIn(sim, Endpoint.TARGET, 3, "m")).isEqualTo(1);
      assertThat(valueIn(sim, Endpoint.PRIMARY, 3, "m")).isZero();
      assertThat(valueIn(sim, Endpoint.TARGET, 0, "m")).isZero();
      await(old::closed, Duration.ofSeconds(5), "the old connection closed");
      ClientRecord moved = sim.awaitClient(r -> r.endpoint() == Endpoint.TARGET, Duration.ofSeconds(5));
      assertThat(moved.optedIn()).isTrue();
      assertThat(moved.requestedProtocol()).isEqualTo(3);
      assertThat(handoffs("success") - successes).isEqualTo(1);
      System.out.println("plain Jedis hand-off (ms): " + handoffMillis());
    }
  }

  @Test
  void aNullEndpointReconnectsToTheSameEndpointAfterHalfTheTime() {
    long successes = handoffs("success");
    try (MaintenanceSimulator sim = MaintenanceSimulator.start();
        Jedis jedis = resp3Jedis(sim)) {
      assertThat(jedis.incr("n")).isEqualTo(1);
      ClientRecord old = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
      sim.push(old, MaintenanceNotification.moving(3, 2, null)); // time_s = 2: reconnect after 1 s
      settle();
      long readAt = System.nanoTime(); // Jedis sees a push only when it reads: time/2 counts from here
      assertThat(jedis.incr("n")).isEqualTo(2); // reads the notification
      long afterRead = System.nanoTime(); // the agent saw it between readAt and now
      if (System.nanoTime() - readAt < TimeUnit.MILLISECONDS.toNanos(900)) {
        assertThat(jedis.incr("n")).isEqualTo(3); // before time/2: still the old connection
        assertThat(old.closed()).isFalse();
        assertThat(sim.clients(Endpoint.PRIMARY)).hasSize(1);
      }
      TestTelemetry.sleep(Math.max(0, 1_100 - (System.nanoTime() - afterRead) / 1_000_000));
      long before = sim.server(Endpoint.PRIMARY).getLong("n");
      assertThat(jedis.incr("n")).isEqualTo(before + 1);
      await(old::closed, Duration.ofSeconds(5), "the old connection closed: " + sim.clients());
      assertThat(sim.clients(Endpoint.PRIMARY)).hasSize(2);
      assertThat(sim.clients(Endpoint.PRIMARY).get(1).optedIn()).isTrue();
      assertThat(sim.clients(Endpoint.TARGET)).isEmpty();
      assertThat(handoffs("success") - successes).isEqualTo(1);
    }
  }

  @Test
  void aMovingDuringMultiLetsTheTransactionFinishOnTheOldConnection() {
    long moving = notifications("MOVING");
    try (MaintenanceSimulator sim = MaintenanceSimulator.start();
        Jedis jedis = resp3Jedis(sim)) {
      assertThat(jedis.ping()).isEqualTo("PONG");
      ClientRecord old = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
      Transaction tx = jedis.multi();
      tx.incr("tx");
      tx.incr("tx");
      sim.push(old, MaintenanceNotification.moving(4, 15, sim.targetAddress()));
      settle();
      tx.incr("tx");
      assertThat(tx.exec()).containsExactly(1L, 2L, 3L);
      assertThat(notifications("MOVING") - moving).isEqualTo(1); // read inside the transaction
      assertThat(old.closed()).isFalse();

      assertThat(jedis.incr("after")).isEqualTo(1);
      assertThat(sim.server(Endpoint.PRIMARY).getLong("tx")).isEqualTo(3);
      assertThat(sim.server(Endpoint.TARGET).getLong("tx")).isZero();
      assertThat(sim.server(Endpoint.TARGET).getLong("after")).isEqualTo(1);
      assertThat(sim.server(Endpoint.PRIMARY).getLong("after")).isZero();
      await(old::closed, Duration.ofSeconds(5), "the old connection closed");
      assertThat(old.commandNames()).containsSubsequence("MULTI", "INCR", "INCR", "INCR", "EXEC");
    }
  }
  @Test
  void anUnreachableTargetFailsTheHandOffNotTheCommand() {
    long successes = handoffs("success");
    long failures = handoffs("failure");
    try (MaintenanceSimulator sim = MaintenanceSimulator.start();
        Jedis jedis = resp3Jedis(sim)) {
      jedis.select(2);
      assertThat(jedis.incr("n")).isEqualTo(1);
      ClientRecord old = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
      sim.push(old, MaintenanceNotification.moving(5, 15, HOST + ":" + Ports.free())); // nobody listens
      settle();
      assertThat(jedis.incr("n")).isEqualTo(2); // reads the notification
      assertThat(jedis.incr("n")).isEqualTo(3); // the hand-off fails: back on the old endpoint, same db
      assertThat(jedis.incr("n")).isEqualTo(4); // and it stays there
      assertThat(valueIn(sim, Endpoint.PRIMARY, 2, "n")).isEqualTo(4);
      assertThat(handoffs("failure") - failures).isEqualTo(1);
      assertThat(handoffs("success") - successes).isZero();
      assertThat(sim.clients(Endpoint.PRIMARY)).hasSize(2); // one reconnect to the old endpoint
      assertThat(sim.clients(Endpoint.TARGET)).isEmpty();
    }
  }
}
