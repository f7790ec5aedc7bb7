package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.FaultProxy;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.KeyValue;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The timeout policy on Lettuce, with the same settings as Jedis, however the client is built:
 * a slow reply is cut at timeout.command, blocking commands get their block time plus the margin,
 * block 0 is never cut, an app timeout is combined per timeout.mode.
 */
class LettuceTimeoutsTest {
  static final String HOST = "127.0.0.1";
  static RedisServer server;
  FaultProxy proxy;
  RedisClient client;

  @BeforeAll
  static void start() {
    server = RedisServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @BeforeEach
  void reset() {
    server.flushAll();
    proxy = FaultProxy.start(server.port());
    TestTelemetry.reset();
  }

  @AfterEach
  void close() {
    if (client != null) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    proxy.close();
  }

  StatefulRedisConnection<String, String> connect(RedisURI uri, ClientOptions options) {
    client = RedisClient.create(uri);
    if (options != null) {
      client.setOptions(options);
    }
    StatefulRedisConnection<String, String> c = client.connect();
    c.sync().ping();
    TestTelemetry.awaitSpans(1, Duration.ofSeconds(5)); // the PING's span may end after it returned
    TestTelemetry.reset();
    return c;
  }

  StatefulRedisConnection<String, String> connectViaProxy() {
    return connect(RedisURI.create(HOST, proxy.port()), null);
  }

  /** Milliseconds until the call completed, and how. */
  static long millis(CompletableFuture<?> f, long t0) throws Exception {
    try {
      f.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException ignored) {
      // timed by the caller
    }
    return (System.nanoTime() - t0) / 1_000_000;
  }

  static Throwable failureOf(CompletableFuture<?> f) throws Exception {
    try {
      f.get(30, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  @ParameterizedTest
  @EnumSource(LettuceApi.class)
  void slowReplyIsCutAtTheCommandTimeout(LettuceApi api) throws Exception {
    try (PolicyOverride p = PolicyOverride.with("timeout.command", "300ms", "retry.max-attempts", "1")) {
      StatefulRedisConnection<String, String> c = connectViaProxy(); // Lettuce's own: 60 s
      long before =
          TestTelemetry.counter("redis.client.timeouts", TestTelemetry.attr("redis.client.timeout.kind", "command"));
      proxy.delayReplies(Duration.ofMillis(1500));
      long t0 = System.nanoTime();
      CompletableFuture<String> get = api.get(c, "k");
      Throwable failure = failureOf(get);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(failure).isInstanceOf(RedisCommandTimeoutException.class);
      assertThat(ms).isBetween(250L, 1200L);
      // the caller may see the failure before the span and metrics are recorded
      SpanData span = LettuceReplaySafetyTest.spanOf("GET k");
      assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type"))).isEqualTo("timeout");
      assertThat(
              TestTelemetry.counter(
                      "redis.client.timeouts", TestTelemetry.attr("redis.client.timeout.kind", "command"))
                  - before)
          .isEqualTo(1);
    }
  }

  @Test
  void appTimeoutKeptInDefaultModeAndCappedInCapMode() throws Exception {
    RedisURI uri = RedisURI.create(HOST, proxy.port());
    uri.setTimeout(Duration.ofSeconds(3)); // not Lettuce's default: the app chose it
    try (PolicyOverride p =
        PolicyOverride.with("timeout.command", "300ms", "timeout.mode", "default", "retry.max-attempts", "1")) {
      StatefulRedisConnection<String, String> c = connect(uri, null);
      proxy.delayReplies(Duration.ofMillis(800));
      assertThat(c.sync().get("k")).isNull(); // waited 800 ms: the app's 3 s applies
    }
    try (PolicyOverride p =
        PolicyOverride.with("timeout.command", "300ms", "timeout.mode", "cap", "retry.max-attempts", "1")) {
      StatefulRedisConnection<String, String> c = client.connect(uri);
      long t0 = System.nanoTime();
      Throwable failure = failureOf(LettuceApi.ASYNC.get(c, "k"));
      assertThat(failure).isInstanceOf(RedisCommandTimeoutException.class);
      assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(250L, 750L);
    }
  }

  @ParameterizedTest
  @EnumSource(LettuceApi.class)
  void blockingCommandGetsItsBlockTimeAndIsNotCut(LettuceApi api) throws Exception {
    try (PolicyOverride p = PolicyOverride.with("timeout.command", "300ms", "timeout.blocking-margin", "500ms")) {
      StatefulRedisConnection<String, String> c = connect(RedisURI.create(HOST, server.port()), null);
      long t0 = System.nanoTime();
      CompletableFuture<KeyValue<String, String>> blpop = blpop(api, c, 1);
      assertThat(failureOf(blpop)).isNull();
      assertThat(blpop.get()).isNull(); // the server's own "nothing within 1 s"
      assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(950L);
    }
  }

  @Test
  void blockingCommandIsCutAtItsBlockTimePlusTheMargin() throws Exception {
    try (PolicyOverride p =
        PolicyOverride.with("timeout.command", "300ms", "timeout.blocking-margin", "300ms", "retry.max-attempts", "1")) {
      StatefulRedisConnection<String, String> c = connectViaProxy();
      proxy.delayReplies(Duration.ofSeconds(4)); // the server's answer is held back
      long t0 = System.nanoTime();
      Throwable failure = failureOf(blpop(LettuceApi.SYNC, c, 1));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(failure).isInstanceOf(RedisCommandTimeoutException.class);
      assertThat(ms).isBetween(1250L, 2500L);
    }
  }

  @ParameterizedTest
  @EnumSource(LettuceApi.class)
  void blockZeroIsNeverCut(LettuceApi api) throws Exception {
    try (PolicyOverride p = PolicyOverride.with("timeout.command", "300ms")) {
      RedisURI uri = RedisURI.create(HOST, server.port());
      uri.setTimeout(Duration.ofMillis(500)); // the app's own timeout does not cut it either
      StatefulRedisConnection<String, String> c = connect(uri, null);
      CompletableFuture<KeyValue<String, String>> blpop =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return blpop(api, c, 0).get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      TestTelemetry.sleep(1500);
      assertThat(blpop).isNotDone();
      server.command("RPUSH", "list", "late");
      assertThat(blpop.get(10, TimeUnit.SECONDS).getValue()).isEqualTo("late");
    }
  }

  CompletableFuture<KeyValue<String, String>> blpop(
      LettuceApi api, StatefulRedisConnection<String, String> c, long seconds) {
    switch (api) {
      case SYNC:
        try {
          return CompletableFuture.completedFuture(c.sync().blpop(seconds, "list"));
        } catch (RuntimeException e) {
          return CompletableFuture.failedFuture(e);
        }
      case ASYNC:
        return c.async().blpop(seconds, "list").toCompletableFuture();
      default:
        return c.reactive().blpop(seconds, "list").toFuture();
    }
  }

  @Test
  void connectTimeoutFollowsThePolicy() {
    try (PolicyOverride p = PolicyOverride.with("timeout.connect", "1500ms")) {
      client = RedisClient.create(RedisURI.create(HOST, server.port())); // Lettuce's own: 10 s
      assertThat(client.getOptions().getSocketOptions().getConnectTimeout()).isEqualTo(Duration.ofMillis(1500));
      client.setOptions(
          ClientOptions.builder()
              .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofMillis(700)).build())
              .build());
      // cap: the app's lower one stays
      assertThat(client.getOptions().getSocketOptions().getConnectTimeout()).isEqualTo(Duration.ofMillis(700));
    }
  }

  /**
   * Lettuce 7 relaxes its timeouts during maintenance only if its expiry writer is the
   * maintenance-aware one and keeps the app's relaxed timeout: the agent wraps nothing.
   */
  @Test
  void lettuce7KeepsItsMaintenanceAwareExpiryWriterAndRelaxedTimeout() {
    Assumptions.assumeTrue(System.getProperty("client.version", "").startsWith("7."));
    StatefulRedisConnection<String, String> c =
        connect(
            RedisURI.create(HOST, server.port()),
            ClientOptions.builder()
                .timeoutOptions(TimeoutOptions.builder().relaxedTimeoutsDuringMaintenance(Duration.ofSeconds(7)).build())
                .build());
    assertThat(client.getOptions().getTimeoutOptions().getRelaxedTimeout()).isEqualTo(Duration.ofSeconds(7));
    Object writer = ((io.lettuce.core.RedisChannelHandler<?, ?>) c).getChannelWriter();
    assertThat(writer.getClass().getName()).isEqualTo("io.lettuce.core.protocol.MaintenanceAwareExpiryWriter");
  }
}
