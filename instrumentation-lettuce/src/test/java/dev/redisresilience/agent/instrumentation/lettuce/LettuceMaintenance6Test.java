package dev.redisresilience.agent.instrumentation.lettuce;

import static dev.redisresilience.agent.telemetry.TelemetryNames.HANDOFFS;
import static dev.redisresilience.agent.telemetry.TelemetryNames.HANDOFF_OUTCOME;
import static dev.redisresilience.agent.telemetry.TelemetryNames.LOG_CONNECTION_DOWN;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_NOTIFICATION;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_NOTIFICATIONS;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_NOTIFICATIONS_REJECTED;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_REJECT_REASON;
import static dev.redisresilience.agent.telemetry.TelemetryNames.RELAXED_TIMEOUT_CONNECTIONS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.telemetry.TelemetryNames;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.MaintenanceNotification;
import dev.redisresilience.harness.MaintenanceSimulator;
import dev.redisresilience.harness.RedisServer;
import dev.redisresilience.harness.MaintenanceSimulator.ClientRecord;
import dev.redisresilience.harness.MaintenanceSimulator.Endpoint;
import dev.redisresilience.harness.RespFrame;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Smart Client Handoffs on Lettuce 6.x, which has none of its own, through the maintenance
 * simulator (a proxy in front of real redis-servers): the agent's opt-in after the RESP3
 * handshake, the notifications it reads from the push path, relaxed timeouts during a window, and
 * the MOVING hand-off to the target server. Lettuce 7.x handles notifications itself (its
 * MaintNotificationsConfig): this class is skipped there (the module's default execution) and runs
 * in the lettuce-6.1 execution (and lettuce-6 with -Pfull-matrix).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
@EnabledIf(value = "lettuce6", disabledReason = "Lettuce 7.x handles maintenance notifications itself")
class LettuceMaintenance6Test {
  static boolean lettuce6() {
    try {
      Class.forName("io.lettuce.core.MaintNotificationsConfig");
      return false;
    } catch (ClassNotFoundException e) {
      return true;
    }
  }

  static final String HOST = "127.0.0.1";
  MaintenanceSimulator sim;
  RedisClient client;

  @BeforeEach
  void start() {
    TestTelemetry.reset();
    sim = MaintenanceSimulator.start();
  }

  @AfterEach
  void stop() {
    if (client != null) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    sim.close();
  }

  StatefulRedisConnection<String, String> connect() {
    client = RedisClient.create(RedisURI.create(HOST, sim.primaryPort()));
    return client.connect();
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

  /** Lets a queued frame reach the client before the next step (no timing asserted). */
  static void settle() {
    TestTelemetry.sleep(200);
  }

  /** Polls (every 20 ms, at most {@code ms}) until {@code condition} holds; false if it never did. */
  static boolean eventually(BooleanSupplier condition, long ms) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      TestTelemetry.sleep(20);
    }
    return condition.getAsBoolean();
  }

  @Test
  void optsInOncePerConnectionAndAgainAfterAReconnect() {
    StatefulRedisConnection<String, String> c = connect();
    assertThat(c.sync().ping()).isEqualTo("PONG");
    ClientRecord first = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
    assertThat(first.requestedProtocol()).isEqualTo(3);
    assertThat(first.optInCommands()).isEqualTo(1);
    assertThat(first.endpointType()).isEqualTo("internal-ip");
    assertThat(first.commands())
        .contains(List.of("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip"));
    assertThat(first.commandNames()).endsWith("PING"); // before the application's first command

    sim.proxy(Endpoint.PRIMARY).resetAllConnections();
    assertThat(eventually(() -> sim.clients(Endpoint.PRIMARY).size() == 2, 10_000)).isTrue();
    assertThat(c.sync().incr("n")).isEqualTo(1);
    ClientRecord second = sim.awaitClient(r -> r != first && r.optedIn(), Duration.ofSeconds(5));
    assertThat(second.optInCommands()).isEqualTo(1);
    assertThat(first.optInCommands()).isEqualTo(1);
  }

  @Test
  void aRefusedOptInLeavesTheConnectionAsItWas() {
    sim.optInSupported(false); // like redis 7.0: -ERR unknown subcommand
    StatefulRedisConnection<String, String> c = connect();
    assertThat(c.sync().incr("n")).isEqualTo(1);
    ClientRecord rec = sim.awaitClient(r -> r.commandNames().contains("INCR"), Duration.ofSeconds(5));
    assertThat(rec.optedIn()).isFalse();
    assertThat(rec.optInCommands()).isEqualTo(1);
    assertThat(c.sync().incr("n")).isEqualTo(2);
  }

  @Test
  void maintenanceOffSendsNoOptIn() {
    try (PolicyOverride p = PolicyOverride.with("maintenance.enabled", "off")) {
      StatefulRedisConnection<String, String> c = connect();
      assertThat(c.sync().incr("n")).isEqualTo(1);
      ClientRecord rec = sim.awaitClient(r -> r.commandNames().contains("INCR"), Duration.ofSeconds(5));
      assertThat(rec.optInCommands()).isZero();
      assertThat(rec.commands()).noneSatisfy(cmd -> assertThat(cmd).contains("MAINT_NOTIFICATIONS"));
    }
  }

  @Test
  void aResp2ConnectionIsNotOptedIn() {
    client = RedisClient.create(RedisURI.create(HOST, sim.primaryPort()));
    client.setOptions(ClientOptions.builder().protocolVersion(ProtocolVersion.RESP2).build());
    StatefulRedisConnection<String, String> c = client.connect();
    assertThat(c.sync().incr("n")).isEqualTo(1);
    ClientRecord rec = sim.awaitClient(r -> r.commandNames().contains("INCR"), Duration.ofSeconds(5));
    assertThat(rec.requestedProtocol()).isEqualTo(2);
    assertThat(rec.optInCommands()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"MIGRATING", "FAILING_OVER"})
  void timeoutsAreRelaxedFromTheStartUntilTheEndPlusGrace(String start) throws Exception {
    boolean migrating = start.equals("MIGRATING");
    RespFrame begin =
        migrating ? MaintenanceNotification.migrating(2, 30, "1") : MaintenanceNotification.failingOver(2, 30, "1");
    RespFrame end = migrating ? MaintenanceNotification.migrated(2, "1") : MaintenanceNotification.failedOver(2, "1");
    String endType = migrating ? "MIGRATED" : "FAILED_OVER";
    long starts = notifications(start);
    long ends = notifications(endType);
    try (PolicyOverride p =
        PolicyOverride.with(
            "timeout.command", "1s", "maintenance.relaxed-timeout", "4s", "retry.max-attempts", "1")) {
      StatefulRedisConnection<String, String> c = connect();
      assertThat(c.sync().set("k", "v")).isEqualTo("OK");
      ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));

      sim.slowReplies(Duration.ofSeconds(3), Duration.ofSeconds(1));
      RedisFuture<String> writtenBefore = c.async().get("k"); // its 1 s timer is armed already
      assertThat(eventually(() -> rec.commandNames().contains("GET"), 5_000)).isTrue(); // in flight
      assertThat(sim.push(rec, begin)).isTrue(); // out of band: before the held reply
      settle();
      assertThat(c.sync().get("k")).isEqualTo("v"); // written after: 3 s reply, relaxed to 4 s
      assertThat(writtenBefore.get(10, TimeUnit.SECONDS)).isEqualTo("v");
      assertThat(TestTelemetry.counter(RELAXED_TIMEOUT_CONNECTIONS, TestTelemetry.any())).isEqualTo(1);
      sim.stopSlowReplies(Endpoint.PRIMARY);

      assertThat(sim.push(rec, end)).isTrue();
      settle();
      assertThat(c.sync().ping()).isEqualTo("PONG");
      TestTelemetry.sleep(4_500); // the grace (= the relaxed timeout) passes
      sim.slowReplies(Duration.ofSeconds(3), Duration.ofSeconds(1));
      assertThatThrownBy(() -> c.sync().get("k")).isInstanceOf(RedisCommandTimeoutException.class);
      RedisFuture<String> async = c.async().get("k");
      assertThatThrownBy(() -> async.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(RedisCommandTimeoutException.class);
      assertThat(TestTelemetry.counter(RELAXED_TIMEOUT_CONNECTIONS, TestTelemetry.any())).isZero();
    }
    assertThat(notifications(start) - starts).isEqualTo(1);
    assertThat(notifications(endType) - ends).isEqualTo(1);
    // the span of the GET in flight when the notification came carries it
    assertThat(TestTelemetry.spans())
        .anySatisfy(
            span ->
                assertThat(span.getEvents())
                    .anySatisfy(e -> assertThat(e.getAttributes().toString()).contains(start)));
  }

  @Test
  void malformedAndUnknownPushesAreCountedAndTheConnectionStaysUsable() {
    long unknown = rejected("unknown_type");
    long malformed = rejected("malformed");
    long parsed = notifications("MIGRATING") + notifications("MOVING");
    StatefulRedisConnection<String, String> c = connect();
    assertThat(c.sync().incr("n")).isEqualTo(1);
    ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
    sim.push(rec, MaintenanceNotification.unknown("REBALANCING", 7));
    sim.push(rec, MaintenanceNotification.migratingWithoutFields());
    sim.push(rec, MaintenanceNotification.movingWithBadFields());
    settle();
    assertThat(c.sync().incr("n")).isEqualTo(2);
    assertThat(sim.server(Endpoint.PRIMARY).getLong("n")).isEqualTo(2);
    assertThat(rejected("unknown_type") - unknown).isEqualTo(1);
    assertThat(rejected("malformed") - malformed).isEqualTo(2);
    assertThat(notifications("MIGRATING") + notifications("MOVING") - parsed).isZero();
    assertThat(rec.closed()).isFalse();
  }

  @Test
  void pubSubMessagesStillReachLettucesListenersAroundANotification() throws Exception {
    long migrating = notifications("MIGRATING");
    client = RedisClient.create(RedisURI.create(HOST, sim.primaryPort()));
    StatefulRedisPubSubConnection<String, String> sub = client.connectPubSub();
    CompletableFuture<String> received = new CompletableFuture<>();
    sub.addListener(
        new RedisPubSubAdapter<String, String>() {
          @Override
          public void message(String channel, String message) {
            received.complete(message);
          }
        });
    sub.sync().subscribe("news");
    ClientRecord rec = sim.awaitClient(r -> r.commandNames().contains("SUBSCRIBE"), Duration.ofSeconds(5));
    assertThat(rec.optedIn()).isTrue();
    sim.push(rec, MaintenanceNotification.migrating(3, 15, "1"));
    settle();
    RedisClient publisher = RedisClient.create(RedisURI.create(HOST, sim.server(Endpoint.PRIMARY).port()));
    try (StatefulRedisConnection<String, String> pub = publisher.connect()) {
      pub.sync().publish("news", "hello");
    } finally {
      publisher.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    assertThat(received.get(5, TimeUnit.SECONDS)).isEqualTo("hello");
    assertThat(notifications("MIGRATING") - migrating).isEqualTo(1);
  }

  @Test
  void movingHandsOffUnderLoadWithoutLosingOrRepeatingAnIncr() throws Exception {
    long succeeded = handoffs("success");
    long failedHandoffs = handoffs("failure");
    long moving = notifications("MOVING");
    StatefulRedisConnection<String, String> c = connect();
    assertThat(c.sync().ping()).isEqualTo("PONG");
    ClientRecord old = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
    int total = 200;
    List<RedisFuture<Long>> replies = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      replies.add(c.async().incr("n"));
      if (i == 60) {
        assertThat(sim.push(old, MaintenanceNotification.moving(5, 15, sim.targetAddress()))).isTrue();
      }
      TestTelemetry.sleep(5); // bounded load: 200 commands over about a second
    }
    int failed = 0;
    for (RedisFuture<Long> r : replies) {
      try {
        r.get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        failed++;
      }
    }
    assertThat(failed).isZero();
    long onPrimary = sim.server(Endpoint.PRIMARY).getLong("n");
    long onTarget = sim.server(Endpoint.TARGET).getLong("n");
    assertThat(onPrimary + onTarget).isEqualTo(total);
    assertThat(onTarget).isPositive(); // new commands reached the target
    assertThat(eventually(old::closed, 10_000)).isTrue();
    ClientRecord moved = sim.awaitClient(r -> r.endpoint() == Endpoint.TARGET && r.optedIn(), Duration.ofSeconds(5));
    assertThat(moved.commandNames()).contains("INCR");
    assertThat(c.sync().incr("n")).isEqualTo(onTarget + 1);
    assertThat(handoffs("success") - succeeded).isEqualTo(1);
    assertThat(handoffs("failure") - failedHandoffs).isZero();
    assertThat(TestTelemetry.logCount(LOG_CONNECTION_DOWN)).isZero();
    assertThat(notifications("MOVING") - moving).isEqualTo(1);
    System.out.printf(
        "MOVING hand-off: %s; %d of %d INCRs on the target, %d failed%n",
        handoffDuration(), onTarget, total, failed);
  }

  /** The hand-off log record's duration (figures for the report; not asserted). */
  static String handoffDuration() {
    return TestTelemetry.logs().stream()
        .filter(l -> TelemetryNames.LOG_MAINT_HANDOFF.equals(l.getEventName()))
        .map(l -> l.getBodyValue().asString())
        .findFirst()
        .orElse("no hand-off record");
  }

  @Test
  void aHandOffWhoseTargetRefusesFallsBackToTheOriginalEndpoint() {
    long failedBefore = handoffs("failure");
    long succeededBefore = handoffs("success");
    StatefulRedisConnection<String, String> c = connect();
    assertThat(c.sync().incr("n")).isEqualTo(1);
    ClientRecord old = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
    sim.proxy(Endpoint.TARGET).refuseConnections(true);
    assertThat(sim.push(old, MaintenanceNotification.moving(7, 15, sim.targetAddress()))).isTrue();
    assertThat(eventually(old::closed, 10_000)).isTrue();
    assertThat(c.sync().incr("n")).isEqualTo(2); // reconnected to the original endpoint
    assertThat(eventually(() -> handoffs("failure") - failedBefore == 1, 5_000)).isTrue();
    assertThat(handoffs("success") - succeededBefore).isZero();
    assertThat(sim.server(Endpoint.PRIMARY).getLong("n")).isEqualTo(2);
    assertThat(sim.server(Endpoint.TARGET).getLong("n")).isZero();
    assertThat(sim.clients(Endpoint.PRIMARY)).anySatisfy(r -> assertThat(r != old && r.optedIn()).isTrue());
  }

  @Test
  void movingWithoutEndpointReconnectsToTheSameOneAfterHalfItsTime() throws Exception {
    long succeeded = handoffs("success");
    StatefulRedisConnection<String, String> c = connect();
    assertThat(c.sync().incr("n")).isEqualTo(1);
    ClientRecord old = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
    long t0 = System.nanoTime();
    assertThat(sim.push(old, MaintenanceNotification.moving(6, 2, null))).isTrue();
    settle();
    assertThat(c.sync().incr("n")).isEqualTo(2); // still the old connection meanwhile
    assertThat(eventually(old::closed, 10_000)).isTrue();
    long closedAfterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    ClientRecord fresh = sim.awaitClient(r -> r != old && r.endpoint() == Endpoint.PRIMARY && r.optedIn(), Duration.ofSeconds(5));
    assertThat(c.sync().incr("n")).isEqualTo(3);
    assertThat(fresh.commandNames()).contains("INCR");
    assertThat(closedAfterMillis).isGreaterThanOrEqualTo(900); // time/2 = 1 s after the notice
    assertThat(sim.server(Endpoint.PRIMARY).getLong("n")).isEqualTo(3);
    assertThat(eventually(() -> handoffs("success") - succeeded == 1, 5_000)).isTrue();
    assertThat(TestTelemetry.logCount(LOG_CONNECTION_DOWN)).isZero();
    System.out.printf("MOVING (null endpoint): closed after %d ms; %s%n", closedAfterMillis, handoffDuration());
  }

  /**
   * A MOVING while the app's transaction is open on the connection: the transaction finishes on
   * the old connection, atomically (sent to the new one, its remaining commands would run outside
   * MULTI and EXEC would fail: a partial commit); the hand-off follows once it is over. The same
   * for a WATCH.
   */
  @Test
  void aMovingDuringMultiOrWatchLetsTheTransactionFinishOnTheOldConnection() {
    long succeeded = handoffs("success");
    StatefulRedisConnection<String, String> c = connect();
    assertThat(c.sync().ping()).isEqualTo("PONG");
    ClientRecord old = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
    assertThat(c.sync().watch("w")).isEqualTo("OK");
    assertThat(c.sync().multi()).isEqualTo("OK");
    assertThat(c.sync().set("a", "1")).isNull(); // queued
    assertThat(sim.push(old, MaintenanceNotification.moving(8, 15, sim.targetAddress()))).isTrue();
    settle();
    settle();
    assertThat(c.sync().set("b", "2")).isNull(); // still queued into the same transaction
    assertThat(c.sync().exec().wasDiscarded()).isFalse();
    RedisServer primary = sim.server(Endpoint.PRIMARY);
    RedisServer target = sim.server(Endpoint.TARGET);
    assertThat(primary.getLong("a")).isEqualTo(1);
    assertThat(primary.getLong("b")).isEqualTo(2);
    assertThat(target.getLong("a") + target.getLong("b")).isZero();
    // the hand-off once the transaction is over: the next command runs on the target
    assertThat(eventually(old::closed, 10_000)).isTrue();
    assertThat(c.sync().incr("after")).isEqualTo(1);
    assertThat(target.getLong("after")).isEqualTo(1);
    assertThat(eventually(() -> handoffs("success") - succeeded == 1, 5_000)).isTrue();
  }
}
