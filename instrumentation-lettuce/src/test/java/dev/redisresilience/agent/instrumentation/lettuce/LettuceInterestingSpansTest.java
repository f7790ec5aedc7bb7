package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.SpanSamplingOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.FaultProxy;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * telemetry.spans.sampling=interesting with Lettuce against a real redis-server (spans end on the
 * event loop: each test ends with a command whose span is kept, and waits for it).
 */
class LettuceInterestingSpansTest {
  static final String HOST = "127.0.0.1";
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("db.operation.name");
  static final AttributeKey<String> ERROR = AttributeKey.stringKey("error.type");
  static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("redis.client.operation.attempts");
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

  RedisCommands<String, String> connect() {
    client = RedisClient.create(RedisURI.create(HOST, proxy.port()));
    StatefulRedisConnection<String, String> c = client.connect();
    c.sync().ping();
    TestTelemetry.sleep(100); // the PING's span, if kept, ends on the event loop: then forgotten
    TestTelemetry.reset();
    return c.sync();
  }

  static long durations(String operation) {
    return TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", operation));
  }

  /** A WRONGTYPE error: always kept, so its span tells that every span before it has ended. */
  static void failOnce(RedisCommands<String, String> redis) {
    redis.set("str", "v");
    assertThatThrownBy(() -> redis.lpush("str", "x")).isInstanceOf(RedisCommandExecutionException.class);
  }

  static List<String> names(List<SpanData> spans) {
    return spans.stream().map(s -> s.getAttributes().get(OPERATION)).collect(Collectors.toList());
  }

  @Test
  void atRatioZeroOnlyTheErrorKeepsItsSpanAndEveryCommandIsMeasured() {
    long gets = durations("GET");
    try (SpanSamplingOverride s = SpanSamplingOverride.interesting("0", "1m")) {
      RedisCommands<String, String> redis = connect();
      for (int i = 0; i < 10; i++) {
        redis.get("k");
      }
      failOnce(redis);
      List<SpanData> spans = TestTelemetry.awaitSpans(1, Duration.ofSeconds(5));
      TestTelemetry.sleep(100);
      assertThat(names(TestTelemetry.spans())).containsExactly("LPUSH");
      assertThat(spans.get(0).getAttributes().get(ERROR)).isEqualTo("WRONGTYPE");
      assertThat(s.sampledOut()).isGreaterThanOrEqualTo(11); // 10 GETs and the SET
    }
    assertThat(durations("GET") - gets).isEqualTo(10);
  }

  @Test
  void aRetriedCommandKeepsItsSpanThoughItSucceeded() {
    try (PolicyOverride p = PolicyOverride.with("retry.backoff.base", "1ms");
        SpanSamplingOverride s = SpanSamplingOverride.interesting("0", "1m")) {
      RedisCommands<String, String> redis = connect();
      redis.set("k", "v");
      proxy.injectError("GET", "LOADING Redis is loading the dataset in memory", 1);
      assertThat(redis.get("k")).isEqualTo("v");
      List<SpanData> spans = TestTelemetry.awaitSpans(1, Duration.ofSeconds(5));
      TestTelemetry.sleep(100);
      assertThat(names(TestTelemetry.spans())).containsExactly("GET");
      assertThat(spans.get(0).getAttributes().get(ATTEMPTS)).isEqualTo(2L);
      assertThat(spans.get(0).getAttributes().get(ERROR)).isNull();
    }
  }

  @Test
  void aSlowCommandKeepsItsSpan() {
    try (SpanSamplingOverride s = SpanSamplingOverride.interesting("0", "50ms")) {
      RedisCommands<String, String> redis = connect();
      redis.ping();
      assertThat(redis.blpop(1, "nothing-here")).isNull(); // blocks 1 s, then nil
      TestTelemetry.awaitSpans(1, Duration.ofSeconds(5));
      TestTelemetry.sleep(100);
      List<SpanData> spans = TestTelemetry.spans();
      assertThat(names(spans)).contains("BLPOP");
      for (SpanData span : spans) {
        // BLPOP, and at most a PING that a busy host made slow as well
        long nanos = span.getEndEpochNanos() - span.getStartEpochNanos();
        assertThat(nanos).isGreaterThanOrEqualTo(
            span.getAttributes().get(OPERATION).equals("BLPOP") ? 900_000_000L : 50_000_000L);
      }
    }
  }

  @Test
  void ratioOneKeepsEverySpan() {
    try (SpanSamplingOverride s = SpanSamplingOverride.interesting("1", "1m")) {
      RedisCommands<String, String> redis = connect();
      for (int i = 0; i < 10; i++) {
        redis.get("k");
      }
      assertThat(names(TestTelemetry.awaitSpans(10, Duration.ofSeconds(5)))).containsOnly("GET").hasSize(10);
      assertThat(s.sampledOut()).isZero();
    }
  }
}
