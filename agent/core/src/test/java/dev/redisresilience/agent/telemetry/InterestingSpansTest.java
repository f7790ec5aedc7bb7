package dev.redisresilience.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.ConfigLoader;
import dev.redisresilience.agent.config.Settings;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.CommandTable;
import dev.redisresilience.agent.core.Failure;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingDecision;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** telemetry.spans.sampling=interesting: the decision, its settings, and Operation.end using it. */
class InterestingSpansTest {
  private static final CommandInfo GET =
      CommandTable.get().lookup("GET".getBytes(StandardCharsets.US_ASCII));
  private static final long MS = 1_000_000L;

  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final InMemoryMetricReader metrics = InMemoryMetricReader.create();
  private final OpenTelemetrySdk sdk =
      OpenTelemetrySdk.builder()
          .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(metrics).build())
          .build();
  private final SpanPipeline pipeline = SpanPipeline.synchronous(spans, Resource.empty());
  private final ClientTelemetry telemetry =
      new ClientTelemetry("jedis", sdk, AgentConfig.defaults(), pipeline);

  @AfterEach
  void close() {
    sdk.close();
  }

  private static AgentConfig config(String... keyValues) {
    Map<String, String> props = new java.util.HashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      props.put("redis.resilience." + keyValues[i], keyValues[i + 1]);
    }
    return ConfigLoader.load(props, Map.of());
  }

  private long durationCount() {
    long n = 0;
    for (MetricData m : metrics.collectAllMetrics()) {
      if (m.getName().equals(TelemetryNames.OPERATION_DURATION)) {
        for (HistogramPointData p : m.getHistogramData().getPoints()) {
          n += p.getCount();
        }
      }
    }
    return n;
  }

  // --- settings -----------------------------------------------------------------------------

  @Test
  void defaultsAreOtelModeWithAOnePercentRatioAndTenMilliseconds() {
    AgentConfig c = AgentConfig.defaults();
    assertThat(c.get(Settings.SPANS_SAMPLING)).isEqualTo("otel");
    assertThat(c.get(Settings.SPANS_SAMPLING_RATIO)).isEqualTo(0.01);
    assertThat(c.get(Settings.SPANS_SAMPLING_SLOW)).isEqualTo(Duration.ofMillis(10));
    assertThat(InterestingSpans.from(c)).isNull(); // the OTel sampler decides, as before
  }

  @Test
  void settingsFromPropertiesAndEnvironment() {
    AgentConfig c =
        ConfigLoader.load(
            Map.of(
                "redis.resilience.telemetry.spans.sampling", "Interesting",
                "redis.resilience.telemetry.spans.sampling.slow", "250ms"),
            Map.of("REDIS_RESILIENCE_TELEMETRY_SPANS_SAMPLING_RATIO", "0.25"));
    assertThat(c.problems()).isEmpty();
    InterestingSpans s = InterestingSpans.from(c);
    assertThat(s).isNotNull();
    assertThat(s.ratio()).isEqualTo(0.25);
    assertThat(s.slowNanos()).isEqualTo(250 * MS);
    assertThat(c.nonDefaults())
        .contains(
            "telemetry.spans.sampling=interesting (system property)",
            "telemetry.spans.sampling.ratio=0.25 (environment)",
            "telemetry.spans.sampling.slow=250ms (system property)");
  }

  @Test
  void invalidValuesGiveOneLineEachAndTheDefault() {
    AgentConfig c =
        config(
            "telemetry.spans.sampling", "tail",
            "telemetry.spans.sampling.ratio", "1.5",
            "telemetry.spans.sampling.slow", "fast");
    assertThat(c.get(Settings.SPANS_SAMPLING)).isEqualTo("otel");
    assertThat(c.get(Settings.SPANS_SAMPLING_RATIO)).isEqualTo(0.01);
    assertThat(c.get(Settings.SPANS_SAMPLING_SLOW)).isEqualTo(Duration.ofMillis(10));
    assertThat(c.problems())
        .containsExactlyInAnyOrder(
            "invalid value for redis.resilience.telemetry.spans.sampling (system property):"
                + " \"tail\" - expected one of otel | interesting; using the default otel",
            "invalid value for redis.resilience.telemetry.spans.sampling.ratio (system property):"
                + " \"1.5\" - expected a number from 0.0 to 1.0; using the default 0.01",
            "invalid value for redis.resilience.telemetry.spans.sampling.slow (system property):"
                + " \"fast\" - expected a duration from 0ms to 10m (e.g. 250ms, 5s, 1m); using the"
                + " default 10ms");
    assertThat(c.problems()).allSatisfy(line -> assertThat(line).doesNotContain("\n"));
    // a bad ratio or threshold leaves the mode itself as asked
    AgentConfig partly = config("telemetry.spans.sampling", "interesting", "telemetry.spans.sampling.ratio", "-1");
    assertThat(partly.problems()).hasSize(1);
    assertThat(InterestingSpans.from(partly).ratio()).isEqualTo(0.01);
  }

  // --- the decision ---------------------------------------------------------------------------

  @Test
  void interestingRootSpansAreAlwaysKeptTheRestAtTheRatio() {
    InterestingSpans s = new InterestingSpans(0.0, Duration.ofMillis(10));
    long anyId = 0x1234_5678_9abc_def0L;
    assertThat(s.keepRoot(false, 1, false, MS, anyId)).isFalse();
    assertThat(s.keepRoot(false, 0, false, MS, anyId)).isFalse(); // no attempt counted: not a retry
    assertThat(s.keepRoot(true, 1, false, MS, anyId)).as("failed").isTrue();
    assertThat(s.keepRoot(false, 2, false, MS, anyId)).as("retried").isTrue();
    assertThat(s.keepRoot(false, 1, true, MS, anyId)).as("span events").isTrue();
    assertThat(s.keepRoot(false, 1, false, 10 * MS, anyId)).as("exactly the threshold").isTrue();
    assertThat(s.keepRoot(false, 1, false, 10 * MS - 1, anyId)).isFalse();
    assertThat(s.sampledOut()).isEqualTo(3);

    InterestingSpans all = new InterestingSpans(1.0, Duration.ofMillis(10));
    SplittableRandom r = new SplittableRandom(7);
    for (int i = 0; i < 10_000; i++) {
      assertThat(all.keepRoot(false, 1, false, 0, r.nextLong())).isTrue();
    }
    assertThat(all.keepRoot(false, 1, false, 0, Long.MIN_VALUE)).isTrue();
    assertThat(all.sampledOut()).isZero();
    InterestingSpans none = new InterestingSpans(0.0, Duration.ZERO);
    assertThat(none.keepRoot(false, 1, false, Long.MAX_VALUE - 1, Long.MIN_VALUE)).as("slow off").isFalse();
    assertThat(none.keepRoot(false, 1, false, 0, 0)).isFalse();
  }

  @Test
  void theRatioDecidesAsTraceIdRatioBasedForTheSameTraceId() {
    for (double ratio : new double[] {0.0, 0.01, 0.25, 0.5, 0.999, 1.0}) {
      InterestingSpans s = new InterestingSpans(ratio, Duration.ZERO);
      Sampler otel = Sampler.traceIdRatioBased(ratio);
      SplittableRandom r = new SplittableRandom(42);
      int kept = 0;
      int n = 20_000;
      for (int i = 0; i < n; i++) {
        long high = r.nextLong();
        long low = i == 0 ? Long.MIN_VALUE : i == 1 ? Long.MAX_VALUE : i == 2 ? 0 : r.nextLong();
        boolean sdk =
            otel.shouldSample(
                        Context.root(),
                        TraceId.fromLongs(high == 0 ? 1 : high, low),
                        "GET",
                        SpanKind.CLIENT,
                        Attributes.empty(),
                        Collections.emptyList())
                    .getDecision()
                == SamplingDecision.RECORD_AND_SAMPLE;
        assertThat(s.keepsTraceId(low)).as("ratio %s, low %x", ratio, low).isEqualTo(sdk);
        kept += sdk ? 1 : 0;
      }
      assertThat((double) kept / n).isCloseTo(ratio, org.assertj.core.data.Offset.offset(0.02));
    }
  }

  @Test
  void aChildFollowsItsParent() {
    assertThat(InterestingSpans.keepChild(RecordedSpan.SAMPLED)).isTrue();
    assertThat(InterestingSpans.keepChild(RecordedSpan.SAMPLED | ParentContext.PARENT_REMOTE)).isTrue();
    assertThat(InterestingSpans.keepChild(0)).isFalse();
    assertThat(InterestingSpans.keepChild(ParentContext.PARENT_REMOTE)).isFalse();
  }

  // --- Operation.end with the decision ------------------------------------------------------

  @Test
  void operationsKeepOnlyWhatMattersAndEveryOneIsMeasured() {
    InterestingSpans decision = new InterestingSpans(0.0, Duration.ofMillis(30));
    pipeline.interesting(decision);
    long before = durationCount();

    telemetry.start(GET, "GET k").end(null); // fast, fine: not kept
    assertThat(spans.getFinishedSpanItems()).isEmpty();

    telemetry.start(GET, "GET k").end(Failure.server("WRONGTYPE", null));
    Operation retried = telemetry.start(GET, "GET k");
    retried.attempt();
    retried.retrying(2, Failure.connection(Failure.Phase.NOT_SENT, null), 0);
    retried.attempt();
    retried.end(null);
    Operation slow = telemetry.start(GET, "GET slow");
    sleepAtLeast(35);
    slow.end(null);
    Operation notified = telemetry.start(GET, "GET k");
    notified.maintenanceNotified("MIGRATING", 1);
    notified.end(null);
    telemetry.start(GET, "GET k").end(Failure.timeout(Failure.Phase.MAYBE_SENT, null));

    assertThat(spans.getFinishedSpanItems())
        .extracting(sp -> sp.getAttributes().get(Operation.QUERY_TEXT) + "|" + sp.getAttributes().get(Operation.ERROR))
        .containsExactly("GET k|WRONGTYPE", "GET k|null", "GET slow|null", "GET k|null", "GET k|timeout");
    SpanData retriedSpan = spans.getFinishedSpanItems().get(1);
    assertThat(retriedSpan.getAttributes().get(Operation.ATTEMPTS)).isEqualTo(2L);
    assertThat(retriedSpan.getEvents()).hasSize(1);
    assertThat(decision.sampledOut()).isEqualTo(1);
    assertThat(durationCount() - before).isEqualTo(6); // every operation, kept or not
  }

  @Test
  void ratioOneKeepsEverySpan() {
    pipeline.interesting(new InterestingSpans(1.0, Duration.ofMillis(10)));
    for (int i = 0; i < 50; i++) {
      telemetry.start(GET, "GET k").end(null);
    }
    assertThat(spans.getFinishedSpanItems()).hasSize(50);
  }

  @Test
  void anUnsampledParentKeepsNoSpanEvenForAFailureASampledOneKeepsEveryChild() {
    pipeline.interesting(new InterestingSpans(0.0, Duration.ofMillis(10)));
    long high = 0x0af7651916cd43ddL;
    long low = 0x8448eb211c80319cL;
    long parent = 0xb7ad6b7169203331L;
    long before = durationCount();

    Operation unsampled = telemetry.start(GET, "GET k");
    unsampled.parent(high, low, parent, 0);
    unsampled.end(Failure.server("WRONGTYPE", null));
    assertThat(spans.getFinishedSpanItems()).isEmpty();

    Operation sampledFine = telemetry.start(GET, "GET fine");
    sampledFine.parent(high, low, parent, RecordedSpan.SAMPLED);
    sampledFine.end(null);
    SpanData s = spans.getFinishedSpanItems().get(0);
    assertThat(s.getTraceId()).isEqualTo(TraceId.fromLongs(high, low));
    assertThat(s.getParentSpanId()).isEqualTo(io.opentelemetry.api.trace.SpanId.fromLong(parent));
    assertThat(durationCount() - before).isEqualTo(2);
  }

  @Test
  void otelModeIsUnchanged() {
    pipeline.interesting(null);
    telemetry.start(GET, "GET k").end(null);
    assertThat(spans.getFinishedSpanItems()).hasSize(1); // parentbased_always_on: every root
  }

  private static void sleepAtLeast(long ms) {
    long end = System.nanoTime() + ms * MS;
    while (System.nanoTime() < end) {
      try {
        Thread.sleep(Math.max(1, (end - System.nanoTime()) / MS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
