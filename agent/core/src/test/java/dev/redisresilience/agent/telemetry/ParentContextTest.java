package dev.redisresilience.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.AgentLog;
import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.CommandTable;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.ExemplarFilter;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The agent's span joins the application's current span: the test's own OpenTelemetry API and
 * SDK play the application's (the agent reads them through {@link ParentContext} as it would read
 * an application's, by class loader).
 */
class ParentContextTest {
  private static final CommandInfo GET =
      CommandTable.get().lookup("GET".getBytes(StandardCharsets.US_ASCII));

  private final InMemorySpanExporter agentSpans = InMemorySpanExporter.create();
  private final InMemoryMetricReader agentMetrics = InMemoryMetricReader.create();
  private final OpenTelemetrySdk agentSdk =
      OpenTelemetrySdk.builder()
          .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(agentMetrics).build())
          .build();
  private final ClientTelemetry telemetry =
      new ClientTelemetry(
          "jedis",
          agentSdk,
          AgentConfig.defaults(),
          SpanPipeline.synchronous(agentSpans, Resource.empty()));

  /** The application's tracer: its own SDK, sampling everything (or nothing, for one test). */
  private static Tracer appTracer(Sampler sampler) {
    // with no processor the SDK hands out no-op spans: the app records its spans somewhere
    return SdkTracerProvider.builder()
        .setSampler(sampler)
        .addSpanProcessor(SimpleSpanProcessor.create(InMemorySpanExporter.create()))
        .build()
        .get("app");
  }

  private static Span validSpan(Tracer tracer, String name) {
    Span s = tracer.spanBuilder(name).startSpan();
    assertThat(s.getSpanContext().isValid()).isTrue();
    return s;
  }

  @AfterEach
  void close() {
    agentSdk.close();
  }

  private SpanData onlyAgentSpan() {
    List<SpanData> spans = agentSpans.getFinishedSpanItems();
    assertThat(spans).hasSize(1);
    return spans.get(0);
  }

  private long durationCount() {
    long n = 0;
    for (MetricData m : agentMetrics.collectAllMetrics()) {
      if (m.getName().equals(TelemetryNames.OPERATION_DURATION)) {
        for (HistogramPointData p : m.getHistogramData().getPoints()) {
          n += p.getCount();
        }
      }
    }
    return n;
  }

  @Test
  void theOperationIsAChildOfTheApplicationsCurrentSpan() {
    Span app = validSpan(appTracer(Sampler.alwaysOn()), "checkout");
    try (Scope ignored = app.makeCurrent()) {
      telemetry.start(GET, null, ParentContextTest.class).end(null);
    } finally {
      app.end();
    }
    SpanData s = onlyAgentSpan();
    SpanContext parent = app.getSpanContext();
    assertThat(s.getTraceId()).isEqualTo(parent.getTraceId());
    assertThat(s.getParentSpanId()).isEqualTo(parent.getSpanId());
    assertThat(s.getParentSpanContext().isRemote()).isFalse();
    assertThat(s.getSpanId()).isNotEqualTo(parent.getSpanId()).isNotEqualTo("0000000000000000");
    // the parent's W3C flags: sampled, and (this SDK generates random trace ids) random
    assertThat(parent.getTraceFlags().asByte()).isEqualTo((byte) 0x03);
    assertThat(s.getSpanContext().getTraceFlags()).isEqualTo(parent.getTraceFlags());
    assertThat(s.getParentSpanContext().getTraceFlags()).isEqualTo(parent.getTraceFlags());
  }

  @Test
  void withoutACurrentSpanTheOperationIsARoot() {
    telemetry.start(GET, null, ParentContextTest.class).end(null);
    SpanData s = onlyAgentSpan();
    assertThat(s.getParentSpanContext().isValid()).isFalse();
    assertThat(s.getParentSpanId()).isEqualTo("0000000000000000");
    assertThat(s.getTraceId()).isNotEqualTo("00000000000000000000000000000000");
  }

  @Test
  void anUnsampledParentGivesNoSpanButTheDurationIsStillMeasured() {
    Span app = appTracer(Sampler.alwaysOff()).spanBuilder("not-sampled").startSpan();
    assertThat(app.getSpanContext().isValid()).isTrue();
    assertThat(app.getSpanContext().isSampled()).isFalse();
    try (Scope ignored = app.makeCurrent()) {
      for (int i = 0; i < 3; i++) {
        telemetry.start(GET, null, ParentContextTest.class).end(null);
      }
    } finally {
      app.end();
    }
    assertThat(agentSpans.getFinishedSpanItems()).isEmpty();
    assertThat(durationCount()).isEqualTo(3);
  }

  @Test
  void aRemoteParentKeepsItsFlagsAndIsMarkedRemote() {
    SpanContext remote =
        SpanContext.createFromRemoteParent(
            "0af7651916cd43dd8448eb211c80319c",
            "b7ad6b7169203331",
            TraceFlags.fromByte((byte) 0x03), // sampled + random (W3C level 2)
            TraceState.getDefault());
    try (Scope ignored = Context.root().with(Span.wrap(remote)).makeCurrent()) {
      telemetry.start(GET, null, ParentContextTest.class).end(null);
    }
    SpanData s = onlyAgentSpan();
    assertThat(s.getTraceId()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
    assertThat(s.getParentSpanId()).isEqualTo("b7ad6b7169203331");
    assertThat(s.getParentSpanContext().isRemote()).isTrue();
    assertThat(s.getSpanContext().getTraceFlags().asByte()).isEqualTo((byte) 0x03);
  }

  @Test
  void theParentIsTheSpanCurrentAtStartNotAtEnd() {
    Tracer tracer = appTracer(Sampler.alwaysOn());
    Span atStart = validSpan(tracer, "dispatch");
    Operation op;
    try (Scope ignored = atStart.makeCurrent()) {
      op = telemetry.start(GET, null, ParentContextTest.class);
    }
    Span atEnd = validSpan(tracer, "completion");
    try (Scope ignored = atEnd.makeCurrent()) {
      op.end(null);
    }
    assertThat(onlyAgentSpan().getParentSpanId()).isEqualTo(atStart.getSpanContext().getSpanId());
  }

  @Test
  void batchesJoinTheTraceToo() {
    Span app = validSpan(appTracer(Sampler.alwaysOn()), "checkout");
    try (Scope ignored = app.makeCurrent()) {
      telemetry.startBatch("PIPELINE", ParentContextTest.class).end(null);
    }
    assertThat(onlyAgentSpan().getParentSpanId()).isEqualTo(app.getSpanContext().getSpanId());
  }

  @Test
  void noCallerMeansNoLookupAndARoot() {
    Span app = validSpan(appTracer(Sampler.alwaysOn()), "checkout");
    try (Scope ignored = app.makeCurrent()) {
      telemetry.start(GET, null).end(null);
    }
    assertThat(onlyAgentSpan().getParentSpanContext().isValid()).isFalse();
  }

  @Test
  void aClassLoaderWithoutTheApiHasNoReader() throws Exception {
    try (URLClassLoader bare = new URLClassLoader(new URL[0], null)) {
      assertThat(ParentContext.resolve(bare)).isSameAs(ParentContext.NONE);
    }
    assertThat(ParentContext.resolve(ParentContextTest.class.getClassLoader()).source())
        .isEqualTo("the application's OpenTelemetry API");
  }

  @Test
  void aFailingApiLogsOnceAndLeavesRootSpans() throws Exception {
    MethodHandle failing =
        MethodHandles.throwException(Object.class, IllegalStateException.class)
            .bindTo(new IllegalStateException("boom"));
    ParentContext.Reader broken =
        new ParentContext.Reader(
            "a broken API",
            failing,
            MethodHandles.identity(Object.class),
            MethodHandles.dropArguments(MethodHandles.constant(boolean.class, true), 0, Object.class),
            MethodHandles.dropArguments(MethodHandles.constant(String.class, "x"), 0, Object.class),
            MethodHandles.dropArguments(MethodHandles.constant(String.class, "y"), 0, Object.class),
            MethodHandles.dropArguments(MethodHandles.constant(byte.class, (byte) 1), 0, Object.class),
            MethodHandles.dropArguments(MethodHandles.constant(boolean.class, false), 0, Object.class));
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    AgentLog.setOutput(new PrintStream(log, true, StandardCharsets.UTF_8));
    try {
      for (int i = 0; i < 3; i++) {
        Operation op = telemetry.start(GET, null);
        broken.read(op);
        assertThat(op.hasParent()).isFalse();
        op.end(null);
      }
    } finally {
      AgentLog.setOutput(System.err);
    }
    assertThat(log.toString(StandardCharsets.UTF_8).lines())
        .containsExactly(
            "[redis-resilience-agent] warn: telemetry: reading the current span from a broken API"
                + " failed (java.lang.IllegalStateException: boom); Redis spans will not join the"
                + " application's traces from now on");
    assertThat(agentSpans.getFinishedSpanItems()).hasSize(3)
        .allSatisfy(s -> assertThat(s.getParentSpanContext().isValid()).isFalse());
  }

  @Test
  void withExemplarsOnTheDurationLinksToTheOperationsSpanInTheAppsTrace() {
    InMemoryMetricReader reader = InMemoryMetricReader.create();
    try (OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setMeterProvider(
                SdkMeterProvider.builder()
                    .registerMetricReader(reader)
                    .setExemplarFilter(ExemplarFilter.traceBased())
                    .build())
            .build()) {
      ClientTelemetry t =
          new ClientTelemetry(
              "jedis",
              sdk,
              AgentConfig.defaults(),
              SpanPipeline.synchronous(agentSpans, Resource.empty()).exemplars(true));
      Span app = validSpan(appTracer(Sampler.alwaysOn()), "checkout");
      try (Scope ignored = app.makeCurrent()) {
        t.start(GET, null, ParentContextTest.class).end(null);
      }
      SpanData span = onlyAgentSpan();
      List<HistogramPointData> points = new java.util.ArrayList<>();
      for (MetricData m : reader.collectAllMetrics()) {
        if (m.getName().equals(TelemetryNames.OPERATION_DURATION)) {
          points.addAll(m.getHistogramData().getPoints());
        }
      }
      assertThat(points).singleElement().satisfies(p -> assertThat(p.getExemplars()).singleElement().satisfies(e -> {
        assertThat(e.getSpanContext().getTraceId()).isEqualTo(app.getSpanContext().getTraceId());
        assertThat(e.getSpanContext().getSpanId()).isEqualTo(span.getSpanId());
      }));
    }
  }

  @Test
  void readingWithoutACurrentSpanAllocatesNothing() {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    Operation op = telemetry.start(GET, null);
    for (int i = 0; i < 50_000; i++) {
      ParentContext.capture(op, ParentContextTest.class); // linked and compiled
    }
    long before = mx.getThreadAllocatedBytes(thread);
    for (int i = 0; i < 100_000; i++) {
      ParentContext.capture(op, ParentContextTest.class);
    }
    long allocated = mx.getThreadAllocatedBytes(thread) - before;
    assertThat(op.hasParent()).isFalse();
    // not one object per read (that would be 1.6 MB or more); a few bytes of measuring noise
    assertThat(allocated).isLessThan(16_000);
  }

  @Test
  void idsThatAreNotLowercaseHexAreNoParent() {
    assertThat(ParentContext.Reader.isHex("0af7651916cd43dd", 16)).isTrue();
    assertThat(ParentContext.Reader.isHex("0AF7651916CD43DD", 16)).isFalse();
    assertThat(ParentContext.Reader.isHex("0af7651916cd43d", 16)).isFalse();
    assertThat(ParentContext.Reader.isHex(null, 16)).isFalse();
    assertThat(ParentContext.Reader.hex("0af7651916cd43dd8448eb211c80319c", 16))
        .isEqualTo(0x8448eb211c80319cL);
    assertThat(ParentContext.Reader.hex("ffffffffffffffff", 0)).isEqualTo(-1L);
  }
}
