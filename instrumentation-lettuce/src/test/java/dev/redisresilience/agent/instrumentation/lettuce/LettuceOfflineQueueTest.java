package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.FaultProxy;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * offline-queue: while the server cannot be reached, Lettuce keeps commands until it reconnects
 * (buffer, its default); with reject they fail at once, classified as connection errors.
 */
class LettuceOfflineQueueTest {
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
  }

  @AfterEach
  void close() {
    if (client != null) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    proxy.close();
  }

  /** A connection, then the server out of reach: reset and every reconnect refused. */
  StatefulRedisConnection<String, String> connectThenLoseTheServer() {
    client = RedisClient.create(RedisURI.create(HOST, proxy.port()));
    StatefulRedisConnection<String, String> c = client.connect();
    c.sync().set("k", "v");
    proxy.refuseConnections(true);
    proxy.resetAllConnections();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (connected(c) && System.nanoTime() < deadline) {
      TestTelemetry.sleep(10);
    }
    assertThat(connected(c)).isFalse();
    TestTelemetry.awaitSpans(1, Duration.ofSeconds(5));
    TestTelemetry.reset();
    return c;
  }

  static boolean connected(StatefulRedisConnection<String, String> c) {
    // isOpen() stays true while Lettuce reconnects; the endpoint knows whether a channel is up
    io.netty.channel.Channel ch = channelOf(c);
    return ch != null && ch.isActive();
  }

  /** The connection's current channel (null while disconnected). */
  static io.netty.channel.Channel channelOf(StatefulRedisConnection<String, String> c) {
    Object writer = ((io.lettuce.core.RedisChannelHandler<?, ?>) c).getChannelWriter();
    while (writer instanceof io.lettuce.core.protocol.CommandExpiryWriter) {
      writer = ((io.lettuce.core.protocol.CommandExpiryWriter) writer).getDelegate();
    }
    try {
      java.lang.reflect.Field f = io.lettuce.core.protocol.DefaultEndpoint.class.getDeclaredField("channel");
      f.setAccessible(true);
      return (io.netty.channel.Channel) f.get(writer);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  @ParameterizedTest
  @EnumSource(LettuceApi.class)
  void rejectFailsACommandAtOnceWhileDisconnected(LettuceApi api) throws Exception {
    try (PolicyOverride p = PolicyOverride.with("offline-queue", "reject")) {
      StatefulRedisConnection<String, String> c = connectThenLoseTheServer();
      long t0 = System.nanoTime();
      CompletableFuture<String> get = api.get(c, "k");
      Throwable failure;
      try {
        get.get(10, TimeUnit.SECONDS);
        failure = null;
      } catch (ExecutionException e) {
        failure = e.getCause();
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(failure).isInstanceOf(RedisException.class).hasMessageContaining("not connected");
      assertThat(ms).isLessThan(500);
      SpanData span = LettuceReplaySafetyTest.spanOf("GET k");
      assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type"))).isEqualTo("connection");
    }
  }

  static long queued(int port) {
    return TestTelemetry.counter(
        "redis.client.connection.offline_queue.size", TestTelemetry.attr("server.port", port));
  }

  @ParameterizedTest
  @EnumSource(LettuceApi.class)
  void maxSizeFailsTheCommandPastTheBoundAtOnceAndTheGaugeCountsTheQueue(LettuceApi api) throws Exception {
    try (PolicyOverride p = PolicyOverride.with("offline-queue.max-size", "3")) {
      StatefulRedisConnection<String, String> c = connectThenLoseTheServer();
      List<RedisFuture<String>> waiting = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        waiting.add(c.async().get("k"));
      }
      assertThat(queued(proxy.port())).isEqualTo(3);
      long t0 = System.nanoTime();
      CompletableFuture<String> fourth = api.get(c, "k");
      Throwable failure;
      try {
        fourth.get(10, TimeUnit.SECONDS);
        failure = null;
      } catch (ExecutionException e) {
        failure = e.getCause();
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(failure)
          .isInstanceOf(RedisException.class) // the sync API wraps it
          .hasMessageContaining("offline-queue.max-size");
      assertThat(ms).isLessThan(500);
      SpanData span = LettuceReplaySafetyTest.spanOf("GET k");
      assertThat(span.getAttributes().get(AttributeKey.stringKey("error.type"))).isEqualTo("connection");
      assertThat(waiting).allSatisfy(f -> assertThat(f.isDone()).isFalse());
      assertThat(queued(proxy.port())).isEqualTo(3);
      proxy.refuseConnections(false);
      for (RedisFuture<String> f : waiting) {
        assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo("v");
      }
      assertThat(queued(proxy.port())).isZero();
    }
  }

  @ParameterizedTest
  @EnumSource(value = LettuceApi.class, names = {"ASYNC", "REACTIVE"})
  void bufferKeepsTheCommandUntilTheReconnect(LettuceApi api) throws Exception {
    StatefulRedisConnection<String, String> c = connectThenLoseTheServer();
    CompletableFuture<String> get = api.get(c, "k");
    TestTelemetry.sleep(500);
    assertThat(get).isNotDone();
    proxy.refuseConnections(false);
    assertThat(get.get(30, TimeUnit.SECONDS)).isEqualTo("v");
  }
}
