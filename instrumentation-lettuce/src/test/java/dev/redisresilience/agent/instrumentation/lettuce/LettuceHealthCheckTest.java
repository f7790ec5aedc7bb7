package dev.redisresilience.agent.instrumentation.lettuce;

import static dev.redisresilience.agent.testing.TestTelemetry.attr;
import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.AgentLog;
import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.FaultProxy;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TransactionResult;
import io.lettuce.core.api.StatefulRedisConnection;
import io.opentelemetry.api.common.Attributes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * health-check.interval on Lettuce against a real redis-server: idle connections are PINGed at the
 * interval (counted by the server), busy ones and ones where a PING is not legal are not, and a
 * server that stops answering is found by the check, which closes the connection so that Lettuce
 * reconnects. The PINGs are no application operations: no span, no operation duration.
 */
class LettuceHealthCheckTest {
  static final String HOST = "127.0.0.1";
  static final String CHECKS = "redis.client.health_checks";
  static final String OUTCOME = "redis.client.health_check.outcome";
  static final String DURATION = "redis.client.health_check.duration";
  static final Pattern PING_CALLS = Pattern.compile("cmdstat_ping:calls=(\\d+)");
  static RedisServer server;
  RedisClient client;
  FaultProxy proxy;

  @BeforeAll
  static void start() {
    server = RedisServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @AfterEach
  void close() {
    if (client != null) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    if (proxy != null) {
      proxy.close();
    }
  }

  StatefulRedisConnection<String, String> connect(int port) {
    client = RedisClient.create(RedisURI.create(HOST, port));
    StatefulRedisConnection<String, String> c = client.connect();
    c.sync().set("k", "v");
    TestTelemetry.awaitSpans(1, Duration.ofSeconds(5));
    return c;
  }

  /** PINGs the server ran since the last CONFIG RESETSTAT (from any client). */
  static long serverPings() throws IOException {
    return pings(server);
  }

  static long pings(RedisServer s) throws IOException {
    Matcher m = PING_CALLS.matcher(s.command("INFO", "commandstats"));
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  static void resetServerStats() throws IOException {
    server.command("CONFIG", "RESETSTAT");
  }

  static Predicate<Attributes> on(int port, String outcome) {
    return attr("server.port", port).and(attr(OUTCOME, outcome));
  }

  static long checks(int port, String outcome) {
    return TestTelemetry.counter(CHECKS, on(port, outcome));
  }

  /** Stops the checks and lets one under way finish, so that both sides can be compared. */
  static PolicyOverride checksOff() {
    PolicyOverride off = PolicyOverride.with("health-check.interval", "0");
    TestTelemetry.sleep(400);
    return off;
  }

  @Test
  void anIdleConnectionIsPingedAtTheIntervalWithoutAnyApplicationTelemetry() throws IOException {
    int port = server.port();
    try (PolicyOverride p = PolicyOverride.with("health-check.interval", "200ms")) {
      connect(port);
      TestTelemetry.reset();
      long before = checks(port, "success");
      long durationsBefore = TestTelemetry.histogramCount(DURATION, on(port, "success"));
      long pingOperations = TestTelemetry.durationCount(attr("db.operation.name", "PING"));
      resetServerStats();
      TestTelemetry.sleep(2_000);
      try (PolicyOverride off = checksOff()) {
        long pings = serverPings();
        // one every 200 ms (the sweep runs every 50 ms): about 8 to 10 in 2 s, fewer on a busy machine
        assertThat(pings).isBetween(3L, 11L);
        assertThat(checks(port, "success") - before).isEqualTo(pings);
        assertThat(TestTelemetry.histogramCount(DURATION, on(port, "success")) - durationsBefore)
            .isEqualTo(pings);
        assertThat(checks(port, "failure")).isZero();
        assertThat(TestTelemetry.spans()).isEmpty();
        assertThat(TestTelemetry.durationCount(attr("db.operation.name", "PING"))).isEqualTo(pingOperations);
      }
    }
  }

  @Test
  void aBusyConnectionIsNotPingedAndIsOnceItIsIdle() throws IOException {
    int port = server.port();
    try (PolicyOverride p = PolicyOverride.with("health-check.interval", "300ms")) {
      StatefulRedisConnection<String, String> c = connect(port);
      resetServerStats();
      long before = checks(port, "success");
      for (int i = 0; i < 30; i++) { // 1.5 s, a command every 50 ms
        assertThat(c.sync().get("k")).isEqualTo("v");
        TestTelemetry.sleep(50);
      }
      assertThat(serverPings()).isZero();
      assertThat(checks(port, "success") - before).isZero();
      TestTelemetry.sleep(1_000); // idle now
      assertThat(serverPings()).isPositive();
    }
  }

  @Test
  void noPingWhileACommandIsInFlightOrInsideMulti() throws Exception {
    int port = server.port();
    try (PolicyOverride p = PolicyOverride.with("health-check.interval", "300ms")) {
      StatefulRedisConnection<String, String> c = connect(port);
      // each step starts right after a command, so that no PING may legally come just before it
      resetServerStats();
      c.sync().get("k");
      // a blocking command in flight: the connection is not idle, and a PING would wait behind it
      RedisFuture<KeyValue<String, String>> pop = c.async().blpop(2, "empty-list");
      TestTelemetry.sleep(1_500);
      assertThat(serverPings()).isZero();
      assertThat(pop.get(5, TimeUnit.SECONDS)).isNull();
      c.sync().get("k");
      long pings = serverPings();
      // inside MULTI a PING would be queued into the application's transaction
      c.sync().multi();
      TestTelemetry.sleep(1_000);
      c.sync().set("a", "1");
      TransactionResult result = c.sync().exec();
      assertThat(result).hasSize(1);
      assertThat((Object) result.get(0)).isEqualTo("OK");
      assertThat(serverPings()).isEqualTo(pings);
      TestTelemetry.sleep(1_000); // idle again, outside the transaction
      assertThat(serverPings()).isGreaterThan(pings);
    }
  }

  @Test
  void aServerThatStopsAnsweringIsFoundAndTheConnectionIsReplaced() throws Exception {
    proxy = FaultProxy.start(server.port());
    int port = proxy.port();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    AgentLog.setOutput(new PrintStream(log, true, StandardCharsets.UTF_8));
    try (PolicyOverride p =
        PolicyOverride.with("health-check.interval", "200ms", "timeout.command", "300ms")) {
      StatefulRedisConnection<String, String> c = connect(port);
      Object firstChannel = LettuceOfflineQueueTest.channelOf(c);
      long failures = checks(port, "failure");
      proxy.blackhole(true);
      long t0 = System.nanoTime();
      long deadline = t0 + TimeUnit.SECONDS.toNanos(10);
      while (checks(port, "failure") == failures && System.nanoTime() < deadline) {
        TestTelemetry.sleep(20);
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(checks(port, "failure") - failures).as("failed checks after %d ms", ms).isEqualTo(1);
      assertThat(log.toString(StandardCharsets.UTF_8))
          .contains("health check of a Lettuce connection to 127.0.0.1:" + port + " failed (timeout)");
      // the agent closed the dead channel; Lettuce reconnects once the server answers again
      assertThat(((io.netty.channel.Channel) firstChannel).isActive()).isFalse();
      proxy.blackhole(false);
      long reconnected = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!LettuceOfflineQueueTest.connected(c) && System.nanoTime() < reconnected) {
        TestTelemetry.sleep(20);
      }
      assertThat(c.sync().get("k")).isEqualTo("v");
      assertThat(LettuceOfflineQueueTest.channelOf(c)).isNotSameAs(firstChannel);
    } finally {
      AgentLog.setOutput(System.err);
    }
  }

  @Test
  void anErrorReplyIsAFailedCheckThatLeavesTheConnectionAlone() throws Exception {
    proxy = FaultProxy.start(server.port());
    int port = proxy.port();
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    AgentLog.setOutput(new PrintStream(log, true, StandardCharsets.UTF_8));
    try (PolicyOverride p = PolicyOverride.with("health-check.interval", "200ms")) {
      StatefulRedisConnection<String, String> c = connect(port);
      Object channel = LettuceOfflineQueueTest.channelOf(c);
      long failures = checks(port, "failure");
      proxy.injectError("PING", "LOADING Redis is loading the dataset in memory", 2);
      long successes = checks(port, "success");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (checks(port, "success") == successes && System.nanoTime() < deadline) {
        TestTelemetry.sleep(20);
      }
      assertThat(checks(port, "failure") - failures).isEqualTo(2);
      assertThat(checks(port, "success") - successes).isPositive(); // the check after them passed
      assertThat(LettuceOfflineQueueTest.channelOf(c)).isSameAs(channel);
      assertThat(((io.netty.channel.Channel) channel).isActive()).isTrue();
      // logged once for the two failures in a row, without closing anything
      assertThat(log.toString(StandardCharsets.UTF_8).split("\n"))
          .filteredOn(l -> l.contains("health check of a Lettuce connection"))
          .containsExactly(
              "[redis-resilience-agent] warn: health check of a Lettuce connection to 127.0.0.1:"
                  + port
                  + " failed (LOADING)");
      assertThat(c.sync().get("k")).isEqualTo("v");
    } finally {
      AgentLog.setOutput(System.err);
    }
  }
}
