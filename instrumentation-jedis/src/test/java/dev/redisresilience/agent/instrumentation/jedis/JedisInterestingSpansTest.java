package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.SpanSamplingOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.FaultProxy;
import dev.redisresilience.harness.RedisServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * telemetry.spans.sampling=interesting with Jedis against a real redis-server: at ratio 0 a fast
 * successful command leaves only its metric point; a failed, a retried and a slow one each keep
 * their span.
 */
class JedisInterestingSpansTest {
  static RedisServer server;
  static final String HOST = "127.0.0.1";
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("db.operation.name");
  static final AttributeKey<String> ERROR = AttributeKey.stringKey("error.type");
  static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("redis.client.operation.attempts");

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
    TestTelemetry.reset();
  }

  static long durations(String operation) {
    return TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", operation));
  }

  @Test
  void atRatioZeroAFastSuccessfulCommandHasNoSpanButItsMetricPoint() {
    long sets = durations("SET");
    long gets = durations("GET");
    try (SpanSamplingOverride s = SpanSamplingOverride.interesting("0", "1m");
        Jedis jedis = new Jedis(HOST, server.port());
        UnifiedJedis pooled = UnifiedClients.pooled(HOST, server.port())) {
      jedis.set("k", "v");
      assertThat(jedis.get("k")).isEqualTo("v");
      pooled.set("k2", "v");
      assertThat(pooled.get("k2")).isEqualTo("v");
      assertThat(s.sampledOut()).isGreaterThanOrEqualTo(4);
    }
    assertThat(TestTelemetry.spans()).isEmpty();
    assertThat(durations("SET") - sets).isEqualTo(2);
    assertThat(durations("GET") - gets).isEqualTo(2);
  }

  @Test
  void anErrorReplyKeepsItsSpan() {
    try (SpanSamplingOverride s = SpanSamplingOverride.interesting("0", "1m");
        Jedis jedis = new Jedis(HOST, server.port())) {
      jedis.set("str", "v");
      assertThatThrownBy(() -> jedis.lpush("str", "x")).isInstanceOf(JedisDataException.class);
      jedis.get("str");
    }
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(spans).hasSize(1);
    assertThat(spans.get(0).getAttributes().get(OPERATION)).isEqualTo("LPUSH");
    assertThat(spans.get(0).getAttributes().get(ERROR)).isEqualTo("WRONGTYPE");
  }

  @Test
  void aRetriedCommandKeepsItsSpanThoughItSucceeded() {
    try (FaultProxy proxy = FaultProxy.start(server.port());
        PolicyOverride p = PolicyOverride.with("retry.backoff.base", "1ms");
        SpanSamplingOverride s = SpanSamplingOverride.interesting("0", "1m");
        Jedis jedis = new Jedis(new HostAndPort(HOST, proxy.port()))) {
      jedis.set("k", "v");
      proxy.injectError("GET", "LOADING Redis is loading the dataset in memory", 1);
      assertThat(jedis.get("k")).isEqualTo("v"); // the agent's retry got through
      jedis.get("k");
    }
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(spans).hasSize(1);
    SpanData retried = spans.get(0);
    assertThat(retried.getAttributes().get(OPERATION)).isEqualTo("GET");
    assertThat(retried.getAttributes().get(ERROR)).isNull();
    assertThat(retried.getAttributes().get(ATTEMPTS)).isEqualTo(2L);
    assertThat(retried.getEvents()).extracting(e -> e.getName()).containsExactly("redis.client.retry");
  }

  @Test
  void aSlowCommandKeepsItsSpan() {
    try (SpanSamplingOverride s = SpanSamplingOverride.interesting("0", "50ms");
        Jedis jedis = new Jedis(HOST, server.port())) {
      jedis.ping();
      List<String> popped = jedis.blpop(1, "nothing-here"); // blocks 1 s, then nil
      assertThat(popped).isNull();
      jedis.ping();
    }
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(spans).extracting(sp -> sp.getAttributes().get(OPERATION)).contains("BLPOP");
    for (SpanData span : spans) {
      // BLPOP, and at most a PING that a busy host made slow as well
      long nanos = span.getEndEpochNanos() - span.getStartEpochNanos();
      assertThat(nanos).isGreaterThanOrEqualTo(
          span.getAttributes().get(OPERATION).equals("BLPOP") ? 900_000_000L : 50_000_000L);
    }
  }

  @Test
  void ratioOneKeepsEverySpan() {
    try (SpanSamplingOverride s = SpanSamplingOverride.interesting("1", "1m");
        Jedis jedis = new Jedis(HOST, server.port())) {
      for (int i = 0; i < 20; i++) {
        jedis.set("k" + i, "v");
      }
      assertThat(s.sampledOut()).isZero();
    }
    assertThat(TestTelemetry.spans()).hasSize(20);
  }

  @Test
  void aChildOfTheApplicationsSpanFollowsItsParent() {
    long lpushes = durations("LPUSH");
    try (SdkTracerProvider sampled =
            SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(InMemorySpanExporter.create()))
                .build();
        SdkTracerProvider unsampled =
            SdkTracerProvider.builder()
                .setSampler(Sampler.alwaysOff())
                .addSpanProcessor(SimpleSpanProcessor.create(InMemorySpanExporter.create()))
                .build();
        SpanSamplingOverride s = SpanSamplingOverride.interesting("0", "1m");
        Jedis jedis = new Jedis(HOST, server.port())) {
      jedis.set("str", "v");
      Span recorded = sampled.get("app").spanBuilder("checkout").startSpan();
      try (Scope ignored = recorded.makeCurrent()) {
        jedis.get("str"); // fast and fine, but the application records this request
      } finally {
        recorded.end();
      }
      Span notRecorded = unsampled.get("app").spanBuilder("browse").startSpan();
      assertThat(notRecorded.getSpanContext().isValid()).isTrue();
      try (Scope ignored = notRecorded.makeCurrent()) {
        // a failure, but in a trace the application decided not to record: no orphan span
        assertThatThrownBy(() -> jedis.lpush("str", "x")).isInstanceOf(JedisDataException.class);
      } finally {
        notRecorded.end();
      }
      List<SpanData> spans = TestTelemetry.spans();
      assertThat(spans).hasSize(1);
      assertThat(spans.get(0).getAttributes().get(OPERATION)).isEqualTo("GET");
      assertThat(spans.get(0).getTraceId()).isEqualTo(recorded.getSpanContext().getTraceId());
      assertThat(spans.get(0).getParentSpanId()).isEqualTo(recorded.getSpanContext().getSpanId());
    }
    assertThat(durations("LPUSH") - lpushes).isEqualTo(1); // measured all the same
  }

  @Test
  void otelModeKeepsEverySpanAsBefore() {
    try (SpanSamplingOverride s = SpanSamplingOverride.with("telemetry.spans.sampling", "otel");
        Jedis jedis = new Jedis(HOST, server.port())) {
      jedis.set("k", "v");
      jedis.get("k");
    }
    assertThat(TestTelemetry.spans()).hasSize(2);
  }
}
