package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Lettuce operations are children of the application's span current when the command is
 * dispatched (the app's own SDK, here the test's), not of whatever is current when it completes.
 */
class LettuceTraceContextTest {
  static RedisServer server;
  static RedisClient client;
  static final InMemorySpanExporter APP_SPANS = InMemorySpanExporter.create();
  static SdkTracerProvider appTracing;
  static Tracer app;
  static Tracer appUnsampled;
  StatefulRedisConnection<String, String> connection;
  StatefulRedisConnection<String, String> other;

  @BeforeAll
  static void start() {
    server = RedisServer.start();
    client = RedisClient.create(RedisURI.create("127.0.0.1", server.port()));
    appTracing = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(APP_SPANS)).build();
    app = appTracing.get("app");
    appUnsampled =
        SdkTracerProvider.builder()
            .setSampler(Sampler.alwaysOff())
            .addSpanProcessor(SimpleSpanProcessor.create(APP_SPANS))
            .build()
            .get("app-unsampled");
  }

  @AfterAll
  static void stop() {
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    server.close();
    appTracing.close();
  }

  @BeforeEach
  void connect() {
    server.flushAll();
    connection = client.connect();
    other = client.connect();
    TestTelemetry.reset();
  }

  @AfterEach
  void close() {
    connection.close();
    other.close();
  }

  static SpanData only(String operation, List<SpanData> spans) {
    List<SpanData> named =
        spans.stream().filter(s -> s.getName().startsWith(operation + " ")).collect(java.util.stream.Collectors.toList());
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
  void asyncCommandIsAChildOfTheSpanCurrentAtDispatchNotAtCompletion() throws Exception {
    Span dispatching = app.spanBuilder("dispatching").startSpan();
    RedisFuture<KeyValue<String, String>> popped;
    try (Scope ignored = dispatching.makeCurrent()) {
      popped = connection.async().blpop(10, "trace:queue");
    } finally {
      dispatching.end();
    }
    // the BLPOP completes while another span is current on this thread (and on the event loop,
    // none): it must still be the dispatching span's child
    Span completing = app.spanBuilder("completing").startSpan();
    try (Scope ignored = completing.makeCurrent()) {
      assertThat(popped.isDone()).isFalse();
      other.sync().lpush("trace:queue", "v");
      assertThat(popped.get(10, TimeUnit.SECONDS).getValue()).isEqualTo("v");
    } finally {
      completing.end();
    }
    List<SpanData> spans = TestTelemetry.awaitSpans(2, Duration.ofSeconds(10));
    assertThat(spans).hasSize(2);
    assertChildOf(only("BLPOP", spans), dispatching);
    assertChildOf(only("LPUSH", spans), completing);
  }

  @Test
  void syncCommandsAreChildrenAndWithoutASpanRoots() {
    Span checkout = app.spanBuilder("checkout").startSpan();
    try (Scope ignored = checkout.makeCurrent()) {
      connection.sync().set("trace:k", "v");
    } finally {
      checkout.end();
    }
    connection.sync().get("trace:k");
    List<SpanData> spans = TestTelemetry.awaitSpans(2, Duration.ofSeconds(10));
    assertThat(spans).hasSize(2);
    assertChildOf(only("SET", spans), checkout);
    SpanData root = only("GET", spans);
    assertThat(root.getParentSpanContext().isValid()).isFalse();
    assertThat(root.getTraceId()).isNotEqualTo(checkout.getSpanContext().getTraceId());
  }

  @Test
  void reactiveCommandIsAChildOfTheSpanCurrentWhenSubscribed() {
    Mono<String> get = connection.reactive().get("trace:k"); // assembled outside any span
    Span subscribing = app.spanBuilder("subscribing").startSpan();
    try (Scope ignored = subscribing.makeCurrent()) {
      assertThat(get.block(Duration.ofSeconds(10))).isNull();
    } finally {
      subscribing.end();
    }
    List<SpanData> spans = TestTelemetry.awaitSpans(1, Duration.ofSeconds(10));
    assertThat(spans).hasSize(1);
    assertChildOf(only("GET", spans), subscribing);
  }

  @Test
  void anUnsampledParentGivesNoSpanButExactMetrics() throws Exception {
    long before = TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "INCR"));
    Span unsampled = appUnsampled.spanBuilder("unsampled").startSpan();
    assertThat(unsampled.getSpanContext().isValid()).isTrue();
    assertThat(unsampled.getSpanContext().isSampled()).isFalse();
    try (Scope ignored = unsampled.makeCurrent()) {
      for (int i = 0; i < 3; i++) {
        connection.async().incr("trace:n").get(10, TimeUnit.SECONDS);
      }
      connection.sync().incr("trace:n");
    } finally {
      unsampled.end();
    }
    connection.sync().incr("trace:n"); // outside: a root span, so spans are on
    List<SpanData> spans = TestTelemetry.awaitSpans(1, Duration.ofSeconds(10));
    TestTelemetry.sleep(100); // an unsampled span would have ended by now too
    assertThat(TestTelemetry.spans()).hasSize(1);
    assertThat(spans.get(0).getParentSpanContext().isValid()).isFalse();
    assertThat(TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "INCR")) - before)
        .isEqualTo(5);
  }
}
