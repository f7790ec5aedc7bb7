package dev.redisresilience.agent.instrumentation.jedis;

import static dev.redisresilience.agent.telemetry.TelemetryNames.LOG_MAINT_NOTIFICATION;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_NOTIFICATION;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_NOTIFICATIONS;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_NOTIFICATIONS_REJECTED;
import static dev.redisresilience.agent.telemetry.TelemetryNames.MAINT_REJECT_REASON;
import static dev.redisresilience.agent.telemetry.TelemetryNames.RELAXED_TIMEOUT_CONNECTIONS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.MaintenanceNotification;
import dev.redisresilience.harness.MaintenanceSimulator;
import dev.redisresilience.harness.MaintenanceSimulator.ClientRecord;
import dev.redisresilience.harness.MaintenanceSimulator.Endpoint;
import dev.redisresilience.harness.RespFrame;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.exceptions.JedisConnectionException;

/**
 * Smart Client Handoffs on Jedis 5.x-8.0.x over RESP3, through the maintenance simulator (a proxy
 * in front of a real redis-server). Not run on Jedis 4.x (the pom excludes it from that execution):
 * Jedis 4 has no RESP3, so no push frame can reach it; JedisMaintenanceResp2Test covers it (and
 * with -Dtest the condition below keeps this class to Jedis 5+).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
@EnabledIf(value = "resp3Client", disabledReason = "Jedis 4.x has no RESP3: see JedisMaintenanceResp2Test")
class JedisMaintenanceResp3Test {
  static boolean resp3Client() {
    try {
      Class.forName("redis.clients.jedis.RedisProtocol");
      return true;
    } catch (ClassNotFoundException jedis4) {
      return false;
    }
  }

  static final String HOST = "127.0.0.1";

  @BeforeEach
  void reset() {
    TestTelemetry.reset();
  }

  static Jedis resp3(MaintenanceSimulator sim) {
    return new Jedis(
        new HostAndPort(HOST, sim.primaryPort()),
        DefaultJedisClientConfig.builder().protocol(RedisProtocol.RESP3).build());
  }

  static long notifications(String type) {
    return TestTelemetry.counter(MAINT_NOTIFICATIONS, TestTelemetry.attr(MAINT_NOTIFICATION, type));
  }

  static long rejected(String reason) {
    return TestTelemetry.counter(MAINT_NOTIFICATIONS_REJECTED, TestTelemetry.attr(MAINT_REJECT_REASON, reason));
  }

  /** Lets a queued frame reach the client's socket before its next command (no timing asserted). */
  static void settle() {
    TestTelemetry.sleep(200);
  }

  @Test
  void pushesBetweenCommandsNeverBecomeTheNextReply() {
    // without the agent, Jedis 5.x-7.x return the MIGRATING push as the GET's reply
    long migrating = notifications("MIGRATING");
    long migrated = notifications("MIGRATED");
    long unknown = rejected("unknown_type");
    long malformed = rejected("malformed");
    try (MaintenanceSimulator sim = MaintenanceSimulator.start();
        Jedis jedis = resp3(sim)) {
      assertThat(jedis.set("k", "v")).isEqualTo("OK");
      ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));

      assertThat(sim.push(rec, MaintenanceNotification.migrating(1, 15, "1"))).isTrue();
      settle();
      assertThat(jedis.get("k")).isEqualTo("v");
      assertThat(sim.push(rec, MaintenanceNotification.migrated(1, "1"))).isTrue();
      settle();
      assertThat(jedis.get("k")).isEqualTo("v");

      // unknown type and valid RESP with wrong content: consumed, counted, connection intact
      sim.push(rec, MaintenanceNotification.unknown("REBALANCING", 7));
      sim.push(rec, MaintenanceNotification.migratingWithoutFields());
      settle();
      assertThat(jedis.incr("n")).isEqualTo(1);
      assertThat(jedis.get("k")).isEqualTo("v");
      assertThat(sim.server(Endpoint.PRIMARY).getLong("n")).isEqualTo(1);
    }
    assertThat(notifications("MIGRATING") - migrating).isEqualTo(1);
    assertThat(notifications("MIGRATED") - migrated).isEqualTo(1);
    assertThat(rejected("unknown_type") - unknown).isEqualTo(1);
    assertThat(rejected("malformed") - malformed).isEqualTo(1);
    assertThat(TestTelemetry.logCount(LOG_MAINT_NOTIFICATION)).isEqualTo(2);
  }

  @Test
  void optsInAfterTheHandshakeAndStaysSilentWhenTheServerRefuses() {
    try (MaintenanceSimulator sim = MaintenanceSimulator.start()) {
      try (Jedis jedis = resp3(sim)) {
        assertThat(jedis.ping()).isEqualTo("PONG");
        ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
        assertThat(rec.requestedProtocol()).isEqualTo(3);
        assertThat(rec.optInCommands()).isEqualTo(1);
        assertThat(rec.endpointType()).isEqualTo("internal-ip");
        assertThat(rec.commands())
            .contains(List.of("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip"));
      }
      sim.optInSupported(false); // like redis 7.0: -ERR unknown subcommand
      try (Jedis jedis = resp3(sim)) {
        assertThat(jedis.incr("n")).isEqualTo(1);
        ClientRecord rec =
            sim.awaitClient(r -> !r.optedIn() && r.optInCommands() == 1, Duration.ofSeconds(5));
        assertThat(rec.commandNames()).endsWith("INCR");
      }
    }
  }

  @Test
  void maintenanceOffSendsNoOptIn() {
    try (PolicyOverride p = PolicyOverride.with("maintenance.enabled", "off");
        MaintenanceSimulator sim = MaintenanceSimulator.start();
        Jedis jedis = resp3(sim)) {
      assertThat(jedis.incr("n")).isEqualTo(1);
      ClientRecord rec = sim.awaitClient(r -> r.commandNames().contains("INCR"), Duration.ofSeconds(5));
      assertThat(rec.optInCommands()).isZero();
      // a push still never becomes a reply
      sim.push(rec, MaintenanceNotification.migrating(1, 15, "1"));
      settle();
      assertThat(jedis.incr("n")).isEqualTo(2);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"MIGRATING", "FAILING_OVER"})
  void timeoutsAreRelaxedFromTheStartUntilTheEndPlusGrace(String start) {
    boolean migrating = start.equals("MIGRATING");
    String end = migrating ? "MIGRATED" : "FAILED_OVER";
    RespFrame begin =
        migrating ? MaintenanceNotification.migrating(2, 30, "1") : MaintenanceNotification.failingOver(2, 30, "1");
    RespFrame done = migrating ? MaintenanceNotification.migrated(2, "1") : MaintenanceNotification.failedOver(2, "1");
    long started = notifications(start);
    long ended = notifications(end);
    try (PolicyOverride p =
            PolicyOverride.with(
                "timeout.command", "1s", "maintenance.relaxed-timeout", "4s", "retry.max-attempts", "1");
        MaintenanceSimulator sim = MaintenanceSimulator.start();
        Jedis jedis = resp3(sim)) {
      assertThat(jedis.set("k", "v")).isEqualTo("OK");
      ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));

      sim.push(rec, begin);
      settle();
      assertThat(jedis.ping()).isEqualTo("PONG"); // reads the notification
      assertThat(TestTelemetry.counter(RELAXED_TIMEOUT_CONNECTIONS, TestTelemetry.any())).isEqualTo(1);
      sim.slowReplies(Duration.ofSeconds(3), Duration.ofSeconds(2));
      assertThat(jedis.get("k")).isEqualTo("v"); // 3 s reply, 1 s command timeout: relaxed to 4 s
      sim.stopSlowReplies(Endpoint.PRIMARY);

      sim.push(rec, done);
      settle();
      assertThat(jedis.ping()).isEqualTo("PONG");
      TestTelemetry.sleep(4_500); // the grace (= relaxed timeout) passes
      sim.slowReplies(Duration.ofSeconds(3), Duration.ofSeconds(2));
      assertThatThrownBy(() -> jedis.get("k"))
          .isInstanceOf(JedisConnectionException.class)
          .hasRootCauseInstanceOf(SocketTimeoutException.class);
    }
    assertThat(TestTelemetry.counter(RELAXED_TIMEOUT_CONNECTIONS, TestTelemetry.any())).isZero();
    assertThat(notifications(start) - started).isEqualTo(1);
    assertThat(notifications(end) - ended).isEqualTo(1);
    assertThat(TestTelemetry.logs())
        .filteredOn(l -> LOG_MAINT_NOTIFICATION.equals(l.getEventName()))
        .extracting(l -> l.getBodyValue().asString())
        .anySatisfy(b -> assertThat(b).startsWith(start));
  }

  @Test
  void pubSubPushesStayWithJedisAndAMaintenancePushBetweenThemIsConsumed() throws Exception {
    long migrating = notifications("MIGRATING");
    try (MaintenanceSimulator sim = MaintenanceSimulator.start();
        Jedis subscriber = resp3(sim);
        Jedis publisher = new Jedis(HOST, sim.server(Endpoint.PRIMARY).port())) {
      CountDownLatch subscribed = new CountDownLatch(1);
      CompletableFuture<String> received = new CompletableFuture<>();
      JedisPubSub listener =
          new JedisPubSub() {
            @Override
            public void onSubscribe(String channel, int count) {
              subscribed.countDown();
            }

            @Override
            public void onMessage(String channel, String message) {
              received.complete(message);
              unsubscribe();
            }
          };
      Thread t = new Thread(() -> {
        try {
          subscriber.subscribe(listener, "news");
        } catch (RuntimeException e) {
          received.completeExceptionally(e);
        }
      });
      t.start();
      assertThat(subscribed.await(5, TimeUnit.SECONDS)).isTrue();
      ClientRecord rec = sim.awaitClient(r -> r.commandNames().contains("SUBSCRIBE"), Duration.ofSeconds(5));
      sim.push(rec, MaintenanceNotification.migrating(3, 15, "1"));
      settle();
      publisher.publish("news", "hello");
      assertThat(received.get(5, TimeUnit.SECONDS)).isEqualTo("hello");
      t.join(5_000);
      assertThat(subscriber.ping()).isEqualTo("PONG");
    }
    assertThat(notifications("MIGRATING") - migrating).isEqualTo(1);
  }

  @Test
  void aClosedConnectionNoLongerCountsAsRelaxed() {
    try (MaintenanceSimulator sim = MaintenanceSimulator.start()) {
      Jedis jedis = resp3(sim);
      assertThat(jedis.ping()).isEqualTo("PONG");
      ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
      sim.push(rec, MaintenanceNotification.failingOver(4, 30, "1")); // no end follows
      settle();
      assertThat(jedis.ping()).isEqualTo("PONG");
      assertThat(relaxedConnections(sim.primaryPort())).isEqualTo(1);
      jedis.close();
      assertThat(relaxedConnections(sim.primaryPort())).isZero();
    }
  }

  static long relaxedConnections(int port) {
    return TestTelemetry.counter(RELAXED_TIMEOUT_CONNECTIONS, TestTelemetry.attr("server.port", port));
  }
}
