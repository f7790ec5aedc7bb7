package dev.redisresilience.agent.testing;

import dev.redisresilience.agent.config.ConfigLoader;
import dev.redisresilience.agent.install.AgentInstaller;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.export.SimpleLogRecordProcessor;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.testing.exporter.InMemoryLogRecordExporter;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import net.bytebuddy.agent.ByteBuddyAgent;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Installs the real agent (same AgentBuilder, same instrumentation modules) into the test JVM
 * before any test class is loaded, with the SDK's in-memory exporters. Registered per module in
 * META-INF/services/org.junit.platform.launcher.LauncherSessionListener.
 */
public final class AgentTestSession implements LauncherSessionListener {
  public static final InMemorySpanExporter SPANS = InMemorySpanExporter.create();
  public static final InMemoryMetricReader METRICS = InMemoryMetricReader.create();
  public static final InMemoryLogRecordExporter LOGS = InMemoryLogRecordExporter.create();
  /** The agent's span pipeline in this JVM (telemetry.spans.sampling: {@link SpanSamplingOverride}). */
  public static final dev.redisresilience.agent.telemetry.SpanPipeline PIPELINE =
      dev.redisresilience.agent.telemetry.SpanPipeline.synchronous(
          SPANS, io.opentelemetry.sdk.resources.Resource.getDefault());
  private static boolean installed;

  @Override
  public void launcherSessionOpened(LauncherSession session) {
    install();
  }

  public static synchronized void install() {
    if (installed) {
      return;
    }
    installed = true;
    OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(SPANS)).build())
            .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(METRICS).build())
            .setLoggerProvider(
                SdkLoggerProvider.builder()
                    .addLogRecordProcessor(SimpleLogRecordProcessor.create(LOGS))
                    .build())
            .build();
    // the agent's own span pipeline, exporting each span as it ends (like a SimpleSpanProcessor)
    AgentInstaller.install(
        ByteBuddyAgent.install(),
        ConfigLoader.fromEnvironment(),
        sdk,
        PIPELINE);
  }
}
