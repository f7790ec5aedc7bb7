package dev.redisresilience.agent.instrumentation.lettuce;

import static dev.redisresilience.agent.telemetry.TelemetryNames.DOWNTIME;
import static dev.redisresilience.agent.telemetry.TelemetryNames.HANDOFFS;
import static dev.redisresilience.agent.telemetry.TelemetryNames.HANDOFF_OUTCOME;
import static dev.redisresilience.agent.telemetry.TelemetryNames.LOG_CONNECTION_DOWN;
import static dev.redisresilience.agent.telemetry.TelemetryNames.LOG_MAINT_HANDOFF;
import static dev.redisresilience.agent.telemetry.TelemetryNames.LOG_MAINT_NOTIFICATION;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_ENDPOINT;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_HANDLED_BY;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_HANDOFF_DURATION;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_NOTIFICATION;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_NOTIFICATIONS;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_NOTIFICATIONS_REJECTED;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_REJECT_REASON;
import static dev.redisresilience.agent.telemetry.TelemetryNames.RELAXED_TIMEOUT_CONNECTIONS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redisresilience.agent.telemetry.AgentFaults;
import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.MaintenanceNotification;
import dev.redisresilience.harness.MaintenanceSimulator;
import dev.redisresilience.harness.MaintenanceSimulator.ClientRecord;
import dev.redisresilience.harness.MaintenanceSimulator.Endpoint;
import dev.redisresilience.harness.RespFrame;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * Smart Client Handoffs on Lettuce 7.x, which handles them itself: through the maintenance
 * simulator (a proxy in front of real redis-servers) the agent reports what Lettuce received and
 * did (notifications handled_by=client, the connections Lettuce relaxed, the MOVING hand-off) and
 * changes nothing of it: Lettuce's relaxed timeouts hold with the agent's timeouts applied, one
 * opt-in per connection, every INCR applied exactly once across the hand-off. Not run on Lettuce
 * 6.x (the module's 6.1 execution): no MaintenanceAwareConnectionWatchdog there.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
@EnabledIf(value = "lettuce7", disabledReason = "Lettuce 6.x does not handle maintenance notifications")
class LettuceNativeMaintenanceTest {
  static final String HOST = "127.0.0.1";

  static boolean lettuce7() {
    try {
      Class.forName("io.lettuce.core.protocol.MaintenanceAwareConnectionWatchdog");
      return true;
    } catch (ClassNotFoundException lettuce6) {
      return false;
    }
  }

  long faultsBefore;

  @BeforeEach
  void reset() {
    TestTelemetry.reset();
    faultsBefore = AgentFaults.total();
  }

  @AfterEach
  void noAgentFaults() {
    assertThat(AgentFaults.total() - faultsBefore).as("agent faults").isZero();
  }

  /** A client of the simulator's primary; {@code relaxed}: Lettuce's relaxed timeout (null: its default). */
  static RedisClient client(MaintenanceSimulator sim, Duration timeout, Duration relaxed) {
    RedisClient c =
        RedisClient.create(RedisURI.builder().withHost(HOST).withPort(sim.primaryPort()).withTimeout(timeout).build());
    if (relaxed != null) {
      c.setOptions(
          ClientOptions.builder()
              .timeoutOptions(
                  TimeoutOptions.builder().connectionTimeout().relaxedTimeoutsDuringMaintenance(relaxed).build())
              .build());
    }
    return c;
  }

  static void shutdown(RedisClient c) {
    c.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }

  static long notifications(String type) {
    return TestTelemetry.counter(MAINT_NOTIFICATIONS, TestTelemetry.attr(MAINT_NOTIFICATION, type));
  }

  static long rejected(String reason) {
    return TestTelemetry.counter(MAINT_NOTIFICATIONS_REJECTED, TestTelemetry.attr(MAINT_REJECT_REASON, reason));
  }

  static long handoffs(String outcome) {
    return TestTelemetry.counter(HANDOFFS, TestTelemetry.attr(HANDOFF_OUTCOME, outcome));
  }

  static long relaxedConnections(int port) {
    return TestTelemetry.counter(RELAXED_TIMEOUT_CONNECTIONS, TestTelemetry.attr("server.port", port));
  }

  static List<LogRecordData> logs(String event) {
    return TestTelemetry.logs().stream().filter(l -> event.equals(l.getEventName())).collect(Collectors.toList());
  }

  static String attr(LogRecordData l, String key) {
    return l.getAttributes().get(AttributeKey.stringKey(key));
  }

  /** Lets a pushed frame reach Lettuce (it reads its socket eagerly; no timing asserted). */
  static void settle() {
    TestTelemetry.sleep(200);
  }

  /** Waits (bounded) until the condition holds; returns whether it did. */
  static boolean await(java.util.function.BooleanSupplier c, Duration d) {
    long deadline = System.nanoTime() + d.toNanos();
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      TestTelemetry.sleep(20);
    }
    return true;
  }

  static Throwable failureOf(RedisFuture<?> f) throws Exception {
    try {
      f.get(30, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  @Test
  void migratingRelaxesLettucesTimeoutsAndTheAgentReportsItWithoutDefeatingThem() throws Exception {
    long migrating = notifications("MIGRATING");
    long migrated = notifications("MIGRATED");
    try (PolicyOverride p = PolicyOverride.with("retry.max-attempts", "1");
        MaintenanceSimulator sim = MaintenanceSimulator.start()) {
      // command timeout 1 s; Lettuce adds its relaxed 4 s during maintenance (and keeps it 4 s after)
      RedisClient client = client(sim, Duration.ofSeconds(1), Duration.ofSeconds(4));
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        assertThat(c.sync().set("k", "v")).isEqualTo("OK");
        ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
        assertThat(relaxedConnections(sim.primaryPort())).isZero();

        assertThat(sim.push(rec, MaintenanceNotification.migrating(1, 15, "1"))).isTrue();
        settle();
        assertThat(relaxedConnections(sim.primaryPort())).isEqualTo(1);

        // a 3 s reply with a 1 s timeout: Lettuce's relaxation carries it, the agent's timeouts too
        sim.slowReplies(Duration.ofSeconds(3), Duration.ofSeconds(2));
        long t0 = System.nanoTime();
        RedisFuture<String> slow = c.async().get("k");
        assertThat(failureOf(slow)).isNull();
        assertThat(slow.get()).isEqualTo("v");
        long relaxedMs = (System.nanoTime() - t0) / 1_000_000;
        sim.stopSlowReplies(Endpoint.PRIMARY);
        // Lettuce 7.7's sync API alone waits one command timeout, relaxed or not
        // (Futures.awaitOrCancel): with the agent it waits as long as Lettuce's relaxed expiry
        sim.slowReplies(Duration.ofSeconds(3), Duration.ofSeconds(2));
        long s0 = System.nanoTime();
        String syncOutcome;
        try {
          syncOutcome = "answered " + c.sync().get("k");
        } catch (RedisCommandTimeoutException e) {
          syncOutcome = "timed out (" + e.getMessage() + ")";
        }
        long syncMs = (System.nanoTime() - s0) / 1_000_000;
        sim.stopSlowReplies(Endpoint.PRIMARY);
        assertThat(syncOutcome).as("a sync GET during the window, 3 s reply, 1 s timeout").isEqualTo("answered v");
        System.out.println("lettuce7-sch: sync GET while relaxed, 3 s reply, 1 s timeout: " + syncOutcome
            + " after " + syncMs + " ms");

        assertThat(sim.push(rec, MaintenanceNotification.migrated(1, "1"))).isTrue();
        settle();
        assertThat(relaxedConnections(sim.primaryPort())).isEqualTo(1); // Lettuce's grace (4 s)
        long graceStart = System.nanoTime();
        // bounded below Lettuce's default 10 s: the app's 4 s must have survived the agent's options
        assertThat(await(() -> relaxedConnections(sim.primaryPort()) == 0, Duration.ofSeconds(7))).isTrue();
        long graceMs = (System.nanoTime() - graceStart) / 1_000_000 + 200;
        TestTelemetry.sleep(300); // Lettuce's own timer ends the relaxation on its executor

        // relaxation over: a slow reply is cut at the command timeout again
        sim.slowReplies(Duration.ofSeconds(3), Duration.ofSeconds(2));
        RedisFuture<String> cut = c.async().get("k");
        assertThat(failureOf(cut)).isInstanceOf(RedisCommandTimeoutException.class);
        // and a sync call too: the agent's longer sync wait never outlasts Lettuce's own expiry
        assertThatThrownBy(() -> c.sync().get("k")).isInstanceOf(RedisCommandTimeoutException.class);
        sim.stopSlowReplies(Endpoint.PRIMARY);
        System.out.printf(
            "lettuce7-sch: relaxed GET answered after %d ms (timeout 1 s); relaxed_timeout gauge back to 0"
                + " %d ms after MIGRATED (Lettuce's grace 4 s)%n",
            relaxedMs, graceMs);
      } finally {
        shutdown(client);
      }
    }
    assertThat(notifications("MIGRATING") - migrating).isEqualTo(1);
    assertThat(notifications("MIGRATED") - migrated).isEqualTo(1);
    List<LogRecordData> records = logs(LOG_MAINT_NOTIFICATION);
    assertThat(records).extracting(l -> attr(l, MAINT_NOTIFICATION)).containsExactly("MIGRATING", "MIGRATED");
    assertThat(records).extracting(l -> attr(l, MAINT_HANDLED_BY)).containsOnly("client");
  }

  @Test
  void movingUnderLoadHandsOffToTheTargetWithEveryIncrAppliedOnce() throws Exception {
    long success = handoffs("success");
    long failure = handoffs("failure");
    long moving = notifications("MOVING");
    long downtime = TestTelemetry.histogramCount(DOWNTIME, TestTelemetry.any());
    int threads = 4;
    int perThread = 50;
    try (MaintenanceSimulator sim = MaintenanceSimulator.start()) {
      RedisClient client = client(sim, Duration.ofSeconds(5), null);
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        assertThat(c.sync().ping()).isEqualTo("PONG");
        ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
        AtomicInteger done = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicReference<Throwable> firstFailure = new AtomicReference<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          Thread w =
              new Thread(
                  () -> {
                    for (int i = 0; i < perThread && System.nanoTime() < deadline; i++) {
                      try {
                        c.sync().incr("n");
                      } catch (RuntimeException e) {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, e);
                      }
                      done.incrementAndGet();
                      // paced (about 1 s per thread): the MOVING lands mid-load on a fast machine
                      // too, and the load outlasts the hand-off (up to a few hundred ms)
                      TestTelemetry.sleep(20);
                    }
                  });
          w.start();
          workers.add(w);
        }
        assertThat(await(() -> done.get() >= 50, Duration.ofSeconds(10))).isTrue();
        long pushed = System.nanoTime();
        assertThat(sim.push(rec, MaintenanceNotification.moving(1, 15, sim.targetAddress()))).isTrue();
        for (Thread w : workers) {
          w.join(TimeUnit.SECONDS.toMillis(40));
        }
        long workersDoneMs = (System.nanoTime() - pushed) / 1_000_000;
        assertThat(firstFailure.get()).isNull();
        assertThat(failed.get()).isZero();
        assertThat(done.get()).isEqualTo(threads * perThread);
        long onPrimary = sim.server(Endpoint.PRIMARY).getLong("n");
        long onTarget = sim.server(Endpoint.TARGET).getLong("n");
        assertThat(onPrimary + onTarget).isEqualTo(threads * perThread);
        assertThat(onTarget).isPositive(); // the commands after the hand-off reach the target

        // a new command goes to the target, on the target's one opted-in connection
        assertThat(c.sync().incr("after")).isEqualTo(1);
        assertThat(sim.server(Endpoint.TARGET).getLong("after")).isEqualTo(1);
        ClientRecord moved = sim.awaitClient(r -> r.endpoint() == Endpoint.TARGET && r.optedIn(), Duration.ofSeconds(5));
        assertThat(sim.clients(Endpoint.TARGET)).hasSize(1);
        assertThat(moved.optInCommands()).isEqualTo(1);
        assertThat(rec.optInCommands()).isEqualTo(1);
        assertThat(await(() -> handoffs("success") - success == 1, Duration.ofSeconds(5))).isTrue();
        List<LogRecordData> h = logs(LOG_MAINT_HANDOFF);
        assertThat(h).hasSize(1);
        assertThat(attr(h.get(0), MAINT_ENDPOINT)).isEqualTo(sim.targetAddress());
        double seconds = h.get(0).getAttributes().get(AttributeKey.doubleKey(MAINT_HANDOFF_DURATION));
        assertThat(seconds).isPositive();
        // Lettuce relaxed the connection if commands were in flight at the push (7.7: not when idle),
        // for its grace after the re-bind: on the target now, the connection's server
        assertThat(relaxedConnections(sim.primaryPort())).isZero();
        System.out.println(
            "lettuce7-sch: relaxed connections after the hand-off: primary "
                + relaxedConnections(sim.primaryPort()) + ", target " + relaxedConnections(sim.targetPort()));
        System.out.printf(
            "lettuce7-sch: MOVING under %d threads x %d INCR: %d failed, primary %d + target %d = %d;"
                + " hand-off %.1f ms after the push (agent's measure), workers done %d ms after it%n",
            threads, perThread, failed.get(), onPrimary, onTarget, onPrimary + onTarget, seconds * 1000,
            workersDoneMs);
      } finally {
        shutdown(client);
      }
    }
    assertThat(notifications("MOVING") - moving).isEqualTo(1);
    assertThat(handoffs("success") - success).isEqualTo(1);
    assertThat(handoffs("failure") - failure).isZero();
    // a planned reconnect, not an outage
    assertThat(TestTelemetry.logCount(LOG_CONNECTION_DOWN)).isZero();
    assertThat(TestTelemetry.histogramCount(DOWNTIME, TestTelemetry.any()) - downtime).isZero();
    List<LogRecordData> n = logs(LOG_MAINT_NOTIFICATION);
    assertThat(n).extracting(l -> attr(l, MAINT_NOTIFICATION)).containsExactly("MOVING");
    assertThat(n).extracting(l -> attr(l, MAINT_HANDLED_BY)).containsExactly("client");
  }

  @Test
  void movingWithANullEndpointReconnectsToTheSameEndpoint() throws Exception {
    long success = handoffs("success");
    long moving = notifications("MOVING");
    try (MaintenanceSimulator sim = MaintenanceSimulator.start()) {
      RedisClient client = client(sim, Duration.ofSeconds(5), null);
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        assertThat(c.sync().incr("n")).isEqualTo(1);
        ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
        // Lettuce re-binds to the same endpoint after time/2 = 1 s
        assertThat(sim.push(rec, MaintenanceNotification.moving(1, 2, null))).isTrue();
        assertThat(await(() -> handoffs("success") - success == 1, Duration.ofSeconds(10))).isTrue();
        assertThat(c.sync().incr("n")).isEqualTo(2);
        assertThat(sim.server(Endpoint.PRIMARY).getLong("n")).isEqualTo(2);
        assertThat(sim.server(Endpoint.TARGET).getLong("n")).isZero();
        assertThat(rec.closed()).isTrue();
        assertThat(sim.clients(Endpoint.PRIMARY)).hasSize(2);
        assertThat(sim.clients(Endpoint.PRIMARY)).allSatisfy(r -> assertThat(r.optInCommands()).isEqualTo(1));
        List<LogRecordData> h = logs(LOG_MAINT_HANDOFF);
        assertThat(h).hasSize(1);
        assertThat(attr(h.get(0), MAINT_ENDPOINT)).isEqualTo(HOST + ":" + sim.primaryPort());
        double seconds = h.get(0).getAttributes().get(AttributeKey.doubleKey(MAINT_HANDOFF_DURATION));
        assertThat(seconds).isGreaterThanOrEqualTo(0.9); // Lettuce waits time/2 before it re-binds
        System.out.printf("lettuce7-sch: MOVING null endpoint: reconnected after %.1f ms%n", seconds * 1000);
      } finally {
        shutdown(client);
      }
    }
    assertThat(notifications("MOVING") - moving).isEqualTo(1);
    assertThat(logs(LOG_MAINT_NOTIFICATION)).extracting(l -> attr(l, MAINT_ENDPOINT)).containsExactly("null");
    assertThat(TestTelemetry.logCount(LOG_CONNECTION_DOWN)).isZero();
  }

  @Test
  void movingToAnUnreachableEndpointFallsBackToTheOldOneAndIsAFailedHandoff() throws Exception {
    long success = handoffs("success");
    long failure = handoffs("failure");
    int deadPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName(HOST))) {
      deadPort = s.getLocalPort(); // closed again: connections to it are refused
    }
    try (MaintenanceSimulator sim = MaintenanceSimulator.start()) {
      RedisClient client = client(sim, Duration.ofSeconds(10), null);
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        assertThat(c.sync().incr("n")).isEqualTo(1);
        ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
        // Lettuce tries the new endpoint until time_s (2 s) passed, then the old one again
        assertThat(sim.push(rec, MaintenanceNotification.moving(1, 2, HOST + ":" + deadPort))).isTrue();
        assertThat(await(() -> handoffs("failure") - failure == 1, Duration.ofSeconds(15))).isTrue();
        assertThat(c.sync().incr("n")).isEqualTo(2);
        assertThat(sim.server(Endpoint.PRIMARY).getLong("n")).isEqualTo(2);
        List<LogRecordData> h = logs(LOG_MAINT_HANDOFF);
        assertThat(h).hasSize(1);
        assertThat(attr(h.get(0), MAINT_ENDPOINT)).isEqualTo(HOST + ":" + deadPort);
        double seconds = h.get(0).getAttributes().get(AttributeKey.doubleKey(MAINT_HANDOFF_DURATION));
        System.out.printf("lettuce7-sch: MOVING to a dead endpoint: back on the old one after %.1f ms%n", seconds * 1000);
      } finally {
        shutdown(client);
      }
    }
    assertThat(handoffs("success") - success).isZero();
    assertThat(handoffs("failure") - failure).isEqualTo(1);
  }

  @Test
  void aMovingLettuceDropsIsCountedButNoHandoffFollowsALaterReconnect() throws Exception {
    long moving = notifications("MOVING");
    long handoffs = TestTelemetry.counter(HANDOFFS, TestTelemetry.any());
    try (MaintenanceSimulator sim = MaintenanceSimulator.start()) {
      RedisClient client = client(sim, Duration.ofSeconds(5), null);
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        assertThat(c.sync().incr("n")).isEqualTo(1);
        ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
        // seq as a bulk string: the agent's parser reads it, Lettuce 7.7's (a Long cast) drops the MOVING
        RespFrame textSeq =
            RespFrame.push(
                RespFrame.bulk("MOVING"), RespFrame.bulk("5"), RespFrame.integer(15), RespFrame.bulk(sim.targetAddress()));
        assertThat(sim.push(rec, textSeq)).isTrue();
        settle();
        assertThat(c.sync().incr("n")).isEqualTo(2);
        assertThat(rec.closed()).isFalse(); // Lettuce did not re-bind
        sim.proxy(Endpoint.PRIMARY).resetAllConnections(); // an unrelated reconnect
        sim.awaitClient(r -> r != rec && r.optedIn() && !r.closed(), Duration.ofSeconds(10));
        assertThat(c.sync().incr("n")).isEqualTo(3);
        assertThat(sim.server(Endpoint.PRIMARY).getLong("n")).isEqualTo(3);
        assertThat(sim.server(Endpoint.TARGET).getLong("n")).isZero();
        settle();
      } finally {
        shutdown(client);
      }
    }
    assertThat(notifications("MOVING") - moving).isEqualTo(1);
    assertThat(TestTelemetry.counter(HANDOFFS, TestTelemetry.any()) - handoffs).isZero();
  }

  @Test
  void failoverNotificationsAreCountedAndTheRelaxedWindowFollowsLettuce() throws Exception {
    long failingOver = notifications("FAILING_OVER");
    long failedOver = notifications("FAILED_OVER");
    try (MaintenanceSimulator sim = MaintenanceSimulator.start()) {
      RedisClient client = client(sim, Duration.ofSeconds(5), Duration.ofMillis(500));
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        assertThat(c.sync().incr("n")).isEqualTo(1);
        ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
        assertThat(sim.push(rec, MaintenanceNotification.failingOver(3, 10, "1,2"))).isTrue();
        settle();
        assertThat(relaxedConnections(sim.primaryPort())).isEqualTo(1);
        assertThat(c.sync().incr("n")).isEqualTo(2);
        assertThat(sim.push(rec, MaintenanceNotification.failedOver(3, "1,2"))).isTrue();
        assertThat(await(() -> relaxedConnections(sim.primaryPort()) == 0, Duration.ofSeconds(5))).isTrue();
        assertThat(c.sync().incr("n")).isEqualTo(3);
        assertThat(sim.server(Endpoint.PRIMARY).getLong("n")).isEqualTo(3);
      } finally {
        shutdown(client);
      }
    }
    assertThat(notifications("FAILING_OVER") - failingOver).isEqualTo(1);
    assertThat(notifications("FAILED_OVER") - failedOver).isEqualTo(1);
    assertThat(logs(LOG_MAINT_NOTIFICATION))
        .extracting(l -> l.getBodyValue().asString())
        .satisfiesExactly(
            b -> assertThat(b).startsWith("FAILING_OVER seq=3 time=10s shards=1,2"),
            b -> assertThat(b).startsWith("FAILED_OVER seq=3 shards=1,2"));
  }

  @Test
  void malformedAndUnknownPushesAreRejectedAndTheConnectionStaysIntact() throws Exception {
    long malformed = rejected("malformed");
    long unknown = rejected("unknown_type");
    long notified = TestTelemetry.counter(MAINT_NOTIFICATIONS, TestTelemetry.any());
    try (MaintenanceSimulator sim = MaintenanceSimulator.start()) {
      RedisClient client = client(sim, Duration.ofSeconds(5), null);
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        assertThat(c.sync().incr("n")).isEqualTo(1);
        ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
        assertThat(sim.push(rec, MaintenanceNotification.movingWithBadFields())).isTrue();
        assertThat(sim.push(rec, MaintenanceNotification.unknown("REBALANCING", 7))).isTrue();
        settle();
        assertThat(c.sync().incr("n")).isEqualTo(2);
        assertThat(sim.push(rec, MaintenanceNotification.migratingWithoutFields())).isTrue();
        settle();
        assertThat(c.sync().incr("n")).isEqualTo(3);
        assertThat(sim.server(Endpoint.PRIMARY).getLong("n")).isEqualTo(3);
        assertThat(rec.closed()).isFalse();
        assertThat(sim.clients(Endpoint.PRIMARY)).hasSize(1);
        // Lettuce 7.7 relaxes on a MIGRATING even without its fields; the gauge mirrors Lettuce
        System.out.printf(
            "lettuce7-sch: after a field-less MIGRATING Lettuce's connection is relaxed: %s%n",
            relaxedConnections(sim.primaryPort()) == 1);
      } finally {
        shutdown(client);
      }
    }
    assertThat(rejected("malformed") - malformed).isEqualTo(2);
    assertThat(rejected("unknown_type") - unknown).isEqualTo(1);
    assertThat(TestTelemetry.counter(MAINT_NOTIFICATIONS, TestTelemetry.any()) - notified).isZero();
    assertThat(TestTelemetry.logCount(LOG_MAINT_NOTIFICATION)).isZero();
  }

  @Test
  void lettuceOptsInOnceAndARefusedOptInChangesNothing() throws Exception {
    long notified = TestTelemetry.counter(MAINT_NOTIFICATIONS, TestTelemetry.any());
    try (MaintenanceSimulator sim = MaintenanceSimulator.start()) {
      RedisClient client = client(sim, Duration.ofSeconds(5), null);
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        assertThat(c.sync().incr("n")).isEqualTo(1);
        ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
        assertThat(rec.optInCommands()).isEqualTo(1); // Lettuce's own; the agent sends none
      } finally {
        shutdown(client);
      }
      sim.optInSupported(false);
      RedisClient refused = client(sim, Duration.ofSeconds(5), null);
      try (StatefulRedisConnection<String, String> c = refused.connect()) {
        assertThat(c.sync().incr("n")).isEqualTo(2);
        ClientRecord rec = sim.awaitClient(r -> !r.closed() && r.optInCommands() == 1, Duration.ofSeconds(5));
        assertThat(rec.optedIn()).isFalse();
        assertThat(sim.pushToOptedIn(Endpoint.PRIMARY, MaintenanceNotification.migrating(1, 2, "1"))).isZero();
        assertThat(c.sync().incr("n")).isEqualTo(3);
        assertThat(rec.optInCommands()).isEqualTo(1);
      } finally {
        shutdown(refused);
      }
    }
    assertThat(TestTelemetry.counter(MAINT_NOTIFICATIONS, TestTelemetry.any()) - notified).isZero();
  }

  @Test
  void aPushDuringACommandIsASpanEventOfIt() throws Exception {
    try (MaintenanceSimulator sim = MaintenanceSimulator.start()) {
      RedisClient client = client(sim, Duration.ofSeconds(5), null);
      try (StatefulRedisConnection<String, String> c = client.connect()) {
        assertThat(c.sync().set("k", "v")).isEqualTo("OK");
        ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
        TestTelemetry.awaitSpans(1, Duration.ofSeconds(5));
        TestTelemetry.reset();
        sim.slowReplies(Duration.ofMillis(800), Duration.ofMillis(300));
        RedisFuture<String> get = c.async().get("k");
        settle(); // the GET is on the wire, its reply held back
        assertThat(sim.push(rec, MaintenanceNotification.migrating(9, 15, "1"))).isTrue();
        assertThat(get.get(10, TimeUnit.SECONDS)).isEqualTo("v");
        sim.push(rec, MaintenanceNotification.migrated(9, "1"));
        settle();
      } finally {
        shutdown(client);
      }
    }
    List<SpanData> spans = TestTelemetry.awaitSpans(1, Duration.ofSeconds(5));
    SpanData get = spans.stream().filter(s -> s.getName().startsWith("GET")).findFirst().orElseThrow();
    assertThat(get.getEvents())
        .filteredOn(e -> e.getName().equals("redis.client.maintenance.notification"))
        .singleElement()
        .satisfies(e -> assertThat(e.getAttributes().get(AttributeKey.longKey("redis.client.maintenance.seq"))).isEqualTo(9L));
  }
}
