package dev.redisresilience.agent.telemetry;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.CommandTable;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The application thread's cost of one operation (start, bind, end) by span decision: CPU time
 * and bytes allocated per operation, from the thread's own counters (ThreadMXBean), so that the
 * export thread and the noise of a shared 2-core host do not count. Not a test: run with
 * {@code -Dcost=true -Dtest=InterestingSpansCost}.
 */
class InterestingSpansCost {
  private static final CommandInfo GET =
      CommandTable.get().lookup("GET".getBytes(StandardCharsets.US_ASCII));
  private static final int WARM = 2_000_000;
  private static final int N = 4_000_000;
  private static final int ROUNDS = 5;

  /** Drops everything on the export thread: only the application thread's side is measured. */
  private static final SpanExporter NOOP =
      new SpanExporter() {
        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
          return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode flush() {
          return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
          return CompletableResultCode.ofSuccess();
        }
      };

  @Test
  @EnabledIfSystemProperty(named = "cost", matches = "true")
  void perOperation() {
    OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setMeterProvider(
                SdkMeterProvider.builder().registerMetricReader(InMemoryMetricReader.create()).build())
            .build();
    String[] names = {
      "spans off (metrics only)",
      "interesting, ratio 0 (none kept)",
      "otel, traceidratio 0 (none kept)",
      "otel, parentbased_always_on (all kept)",
      "interesting, ratio 1 (all kept)"
    };
    ClientTelemetry[] variants = {
      new ClientTelemetry("jedis", sdk, AgentConfig.defaults(), null),
      telemetry(sdk, null, new InterestingSpans(0.0, Duration.ofMillis(10))),
      telemetry(sdk, Sampler.traceIdRatioBased(0.0), null),
      telemetry(sdk, null, null),
      telemetry(sdk, null, new InterestingSpans(1.0, Duration.ofMillis(10))),
    };
    Endpoint e = variants[0].endpoint("127.0.0.1", 6379, "127.0.0.1", 6379, 0);
    for (ClientTelemetry t : variants) {
      run(t, e, WARM);
    }
    double[][] cpu = new double[variants.length][ROUNDS];
    double[][] bytes = new double[variants.length][ROUNDS];
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    for (int round = 0; round < ROUNDS; round++) {
      for (int v = 0; v < variants.length; v++) {
        long b0 = mx.getCurrentThreadAllocatedBytes();
        long c0 = mx.getCurrentThreadCpuTime();
        run(variants[v], e, N);
        cpu[v][round] = (mx.getCurrentThreadCpuTime() - c0) / (double) N;
        bytes[v][round] = (mx.getCurrentThreadAllocatedBytes() - b0) / (double) N;
      }
    }
    for (int v = 0; v < variants.length; v++) {
      java.util.Arrays.sort(cpu[v]);
      java.util.Arrays.sort(bytes[v]);
      System.out.printf(
          "COST %-40s %7.1f ns/op CPU (min %.1f, max %.1f)  %6.1f B/op%n",
          names[v], cpu[v][ROUNDS / 2], cpu[v][0], cpu[v][ROUNDS - 1], bytes[v][ROUNDS / 2]);
    }
    sdk.close();
  }

  private static ClientTelemetry telemetry(OpenTelemetrySdk sdk, Sampler sampler, InterestingSpans decision) {
    SpanPipeline p =
        new SpanPipeline(
            Collections.singletonList(NOOP), Resource.empty(), sampler, 2048, 512, 5_000_000L, 1_000_000_000L);
    p.interesting(decision);
    return new ClientTelemetry("jedis", sdk, AgentConfig.defaults(), p);
  }

  private static void run(ClientTelemetry t, Endpoint e, int n) {
    for (int i = 0; i < n; i++) {
      Operation op = t.start(GET, "GET k");
      op.bind(e);
      op.attempt();
      op.end(null);
    }
  }
}
