package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisServer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Transaction;

/** Jedis operations are children of the application's current span (here the test's own SDK). */
class JedisTraceContextTest {
  static RedisServer server;
  static final InMemorySpanExporter APP_SPANS = InMemorySpanExporter.create();
  static SdkTracerProvider appTracing;
  static SdkTracerProvider appUnsampledTracing;
  static Tracer app;
  static Tracer appUnsampled;

  @BeforeAll
  static void start() {
    server = RedisServer.start();
    appTracing = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(APP_SPANS)).build();
    appUnsampledTracing =
        SdkTracerProvider.builder()
            .setSampler(Sampler.alwaysOff())
            .addSpanProcessor(SimpleSpanProcessor.create(APP_SPANS))
            .build();
    app = appTracing.get("app");
    appUnsampled = appUnsampledTracing.get("app");
  }

  @AfterAll
  static void stop() {
    server.close();
    appTracing.close();
    appUnsampledTracing.close();
  }

  @BeforeEach
  void reset() {
    server.flushAll();
    TestTelemetry.reset();
  }

  static SpanData only(String operation, List<SpanData> spans) {
    List<SpanData> named =
        spans.stream().filter(s -> s.getName().startsWith(operation + " ")).collect(Collectors.toList());
    assertThat(named).hasSize(1);
    return named.get(0);
  }

  static void assertChildOf(SpanData s, Span parent) {
    assertThat(parent.getSpanContext().isValid()).isTrue();
    assertThat(s.getTraceId()).isEqualTo(parent.getSpanContext().getTraceId());
    assertThat(s.getParentSpanId()).isEqualTo(parent.getSpanContext().getSpanId());
    assertThat(s.getSpanContext().getTraceFlags()).isEqualTo(parent.getSpanContext().getTraceFlags());
  }

  @Test
  void commandsPipelinesAndTransactionsAreChildrenOfTheCurrentSpan() {
    Span checkout = app.spanBuilder("checkout").startSpan();
    try (Scope ignored = checkout.makeCurrent();
        Jedis jedis = new Jedis("127.0.0.1", server.port())) {
      jedis.set("trace:k", "v");
      Pipeline p = jedis.pipelined();
      p.get("trace:k");
      p.incr("trace:n");
      p.sync();
      Transaction tx = jedis.multi();
      tx.incr("trace:n");
      tx.exec();
    } finally {
      checkout.end();
    }
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(spans).hasSize(3);
    assertChildOf(only("SET", spans), checkout);
    assertChildOf(only("PIPELINE", spans), checkout);
    assertChildOf(only("MULTI", spans), checkout);
    assertThat(spans.stream().map(SpanData::getSpanId).distinct()).hasSize(3);
  }

  @Test
  void withoutACurrentSpanOperationsAreRoots() {
    try (Jedis jedis = new Jedis("127.0.0.1", server.port())) {
      jedis.set("trace:a", "1");
      jedis.set("trace:b", "2");
    }
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(spans).hasSize(2);
    assertThat(spans).allSatisfy(s -> assertThat(s.getParentSpanContext().isValid()).isFalse());
    assertThat(spans.get(0).getTraceId()).isNotEqualTo(spans.get(1).getTraceId());
  }

  @Test
  void anUnsampledParentGivesNoSpanButExactMetrics() {
    long before = TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "INCR"));
    Span unsampled = appUnsampled.spanBuilder("unsampled").startSpan();
    assertThat(unsampled.getSpanContext().isValid()).isTrue();
    assertThat(unsampled.getSpanContext().isSampled()).isFalse();
    try (Jedis jedis = new Jedis("127.0.0.1", server.port())) {
      try (Scope ignored = unsampled.makeCurrent()) {
        for (int i = 0; i < 4; i++) {
          jedis.incr("trace:n");
        }
      } finally {
        unsampled.end();
      }
      jedis.incr("trace:n");
    }
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(spans).hasSize(1);
    assertThat(spans.get(0).getParentSpanContext().isValid()).isFalse();
    assertThat(TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "INCR")) - before)
        .isEqualTo(5);
  }
}
