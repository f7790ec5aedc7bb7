package dev.redisresilience.agent.install;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.Settings;
import dev.redisresilience.agent.telemetry.AgentFaults;
import dev.redisresilience.agent.telemetry.ExportHealth;
import dev.redisresilience.agent.telemetry.PrometheusEndpoint;
import dev.redisresilience.agent.telemetry.SpanPipeline;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSpanExporterProvider;
import io.opentelemetry.sdk.metrics.Aggregation;
import io.opentelemetry.sdk.metrics.InstrumentSelector;
import io.opentelemetry.sdk.metrics.SdkMeterProviderBuilder;
import io.opentelemetry.sdk.metrics.View;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The telemetry side of the agent's set-up: the OpenTelemetry SDK autoconfigured from the
 * standard {@code OTEL_*} settings (metrics, log records, resource, sampler), and the agent's own
 * span pipeline on the span exporters those settings name. The SDK's tracer provider is built
 * without exporters (so without a batch span processor and its idle worker thread): every span
 * the agent reports goes through {@link SpanPipeline}, and nothing else uses that provider.
 */
final class TelemetrySdk {
  static final String TRACES_EXPORTER = "otel.traces.exporter";

  final OpenTelemetrySdk sdk;
  /** Null when spans are off or no span exporter is configured. */
  final SpanPipeline spans;

  private TelemetrySdk(OpenTelemetrySdk sdk, SpanPipeline spans) {
    this.sdk = sdk;
    this.spans = spans;
  }

  static TelemetrySdk build(AgentConfig config, String agentJar) {
    Map<String, String> defaults = new HashMap<>();
    // the OTLP default the specification asks for (the Java SDK alone still defaults to grpc)
    defaults.put("otel.exporter.otlp.protocol", "http/protobuf");
    // exemplars cost about 140 ns and 216 bytes per operation in an application trace (README,
    // "Trace context"): off unless asked for
    defaults.put("otel.metrics.exemplar.filter", "always_off");
    ClassLoader services = serviceLoader();
    // the settings as the application gave them (before the override below), the resource and the
    // sampler the SDK configured from them, for the agent's own span pipeline
    Resource[] resource = {Resource.getDefault()};
    Sampler[] sampler = {null};
    ConfigProperties[] properties = {null};
    OpenTelemetrySdk sdk =
        AutoConfiguredOpenTelemetrySdk.builder()
            .addPropertiesSupplier(() -> defaults)
            .setServiceClassLoader(services)
            .addPropertiesCustomizer(
                c -> {
                  properties[0] = c;
                  // the agent's pipeline exports spans; the SDK's tracer provider gets no exporter
                  return Collections.singletonMap(TRACES_EXPORTER, "none");
                })
            .addResourceCustomizer(
                (r, c) -> {
                  resource[0] = r;
                  return r;
                })
            .addSamplerCustomizer(
                (smp, c) -> {
                  sampler[0] = smp;
                  return smp;
                })
            .addMetricExporterCustomizer((e, c) -> ExportHealth.wrap(e))
            .addMeterProviderCustomizer(
                (b, c) -> PrometheusEndpoint.register(withoutSdkSelfMetrics(b), config, agentJar))
            .addLogRecordExporterCustomizer((e, c) -> ExportHealth.wrap(e))
            .disableShutdownHook()
            .build()
            .getOpenTelemetrySdk();
    ConfigProperties c = properties[0]; // null: the SDK is disabled (otel.sdk.disabled)
    SpanPipeline spans = null;
    if (c != null && config.get(Settings.SPANS_ENABLED)) {
      List<SpanExporter> exporters;
      try {
        exporters = spanExporters(c, services);
      } catch (RuntimeException invalid) {
        sdk.shutdown(); // the caller runs without telemetry: no reader thread left behind
        throw invalid;
      }
      if (!exporters.isEmpty()) {
        int maxBatch = c.getInt("otel.bsp.max.export.batch.size", 512);
        // a batch size the application set is a hard bound; the default one may grow under a
        // backlog (SpanPipeline), up to four batches within the queue
        boolean batchSizeSet = c.getString("otel.bsp.max.export.batch.size") != null;
        spans =
            new SpanPipeline(
                exporters,
                resource[0],
                sampler[0],
                c.getInt("otel.bsp.max.queue.size", 2048),
                maxBatch,
                batchSizeSet ? maxBatch : 4 * maxBatch,
                millis(c, "otel.bsp.schedule.delay", 5000) * 1_000_000L,
                millis(c, "otel.bsp.export.timeout", 30000) * 1_000_000L);
        // trace_based (or always_on) exemplars: the histogram must see the span's context
        spans.exemplars(
            !"always_off".equalsIgnoreCase(c.getString("otel.metrics.exemplar.filter", "always_off")));
      }
    }
    long timeoutMillis = config.get(Settings.SHUTDOWN_FLUSH_TIMEOUT).toMillis();
    SpanPipeline pipeline = spans;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> flushAtExit(sdk, pipeline, timeoutMillis), "redis-resilience-agent-shutdown"));
    return new TelemetrySdk(sdk, spans);
  }

  /**
   * The SDK's own instruments (OTLP exporter seen/exported counts and durations, the log
   * processor's queue size and processed count, in their legacy and semconv names) dropped by
   * views: they are about the agent's plumbing, not the application's Redis traffic, and would be
   * exported beside the agent's metrics. The SDK has no setting to turn them off (autoconfigure
   * hands its exporters the SDK's meter provider after building it); with the drop aggregation a
   * recording is a no-op and nothing is exported. The span exporters the agent builds itself
   * already have a no-op meter provider.
   */
  static SdkMeterProviderBuilder withoutSdkSelfMetrics(SdkMeterProviderBuilder b) {
    for (String name : SDK_SELF_METRICS) {
      b.registerView(
          InstrumentSelector.builder().setName(name).build(),
          View.builder().setAggregation(Aggregation.drop()).build());
    }
    return b;
  }

  /** Instrument names (wildcards allowed); none of the agent's own instruments matches. */
  static final String[] SDK_SELF_METRICS = {"otlp.exporter.*", "otel.sdk.*", "processedLogs", "processedSpans", "queueSize"};

  /**
   * The span exporters {@code otel.traces.exporter} names (default otlp), made by the same SDK
   * providers autoconfiguration uses, from the application's settings; "none": none. An unknown
   * name, or "none" with others, is invalid configuration, as it is to autoconfiguration.
   */
  static List<SpanExporter> spanExporters(ConfigProperties c, ClassLoader services) {
    Set<String> names = new LinkedHashSet<>();
    for (String n : c.getList(TRACES_EXPORTER, Collections.singletonList("otlp"))) {
      names.add(n.trim().toLowerCase(Locale.ROOT));
    }
    names.remove("");
    List<SpanExporter> exporters = new ArrayList<>();
    if (names.contains("none")) {
      if (names.size() > 1) {
        throw new ConfigurationException(TRACES_EXPORTER + " contains none along with other exporters: " + names);
      }
      return exporters;
    }
    Map<String, ConfigurableSpanExporterProvider> providers = new HashMap<>();
    for (ConfigurableSpanExporterProvider p :
        ServiceLoader.load(ConfigurableSpanExporterProvider.class, services)) {
      providers.putIfAbsent(p.getName(), p);
    }
    for (String name : names) {
      ConfigurableSpanExporterProvider p = providers.get(name);
      if (p == null) {
        throw new ConfigurationException("Unrecognized value for " + TRACES_EXPORTER + ": " + name
            + " (this agent ships: " + String.join(", ", new java.util.TreeSet<>(providers.keySet())) + ")");
      }
      exporters.add(p.createExporter(c));
    }
    return exporters;
  }

  private static long millis(ConfigProperties c, String key, long dflt) {
    java.time.Duration d = c.getDuration(key);
    return d == null ? dflt : d.toMillis();
  }

  /**
   * The last export, bounded: some SDK shutdown steps block (a periodic metric reader's final
   * export, exporter retries), so they run on a daemon thread the exit does not wait for beyond
   * the timeout. An unreachable collector never holds the application's exit longer.
   */
  static void flushAtExit(OpenTelemetrySdk sdk, SpanPipeline spans, long configuredMillis) {
    // a collector that failed the last export gets a token chance, not the full timeout
    long timeoutMillis = ExportHealth.collectorDown() ? Math.min(configuredMillis, 200) : configuredMillis;
    Thread flush =
        new Thread(
            () -> {
              long t0 = System.nanoTime();
              if (spans != null) {
                try {
                  spans.shutdown(timeoutMillis);
                } catch (RuntimeException e) {
                  AgentFaults.record(e); // the SDK's final metric and log export still runs
                }
              }
              long left = timeoutMillis - (System.nanoTime() - t0) / 1_000_000;
              sdk.shutdown().join(Math.max(1, left), TimeUnit.MILLISECONDS);
            },
            "redis-resilience-agent-flush");
    flush.setDaemon(true);
    flush.start();
    try {
      flush.join(timeoutMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static ClassLoader serviceLoader() {
    ClassLoader agentLoader = TelemetrySdk.class.getClassLoader();
    return agentLoader != null ? agentLoader : ClassLoader.getSystemClassLoader();
  }
}
