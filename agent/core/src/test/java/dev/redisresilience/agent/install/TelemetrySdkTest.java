package dev.redisresilience.agent.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import io.opentelemetry.sdk.autoconfigure.spi.internal.DefaultConfigProperties;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The span exporters the agent's pipeline gets, from the application's OTEL_* settings. */
class TelemetrySdkTest {
  static List<SpanExporter> exporters(String... keyValues) {
    Map<String, String> m = new HashMap<>();
    m.put("otel.exporter.otlp.protocol", "http/protobuf"); // the agent's default
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put(keyValues[i], keyValues[i + 1]);
    }
    return TelemetrySdk.spanExporters(
        DefaultConfigProperties.createFromMap(m), TelemetrySdkTest.class.getClassLoader());
  }

  @Test
  void otlpByDefaultOnEitherProtocol() {
    List<SpanExporter> http = exporters();
    assertThat(http).singleElement().isInstanceOf(OtlpHttpSpanExporter.class);
    List<SpanExporter> grpc = exporters("otel.exporter.otlp.protocol", "grpc");
    assertThat(grpc).singleElement().isInstanceOf(OtlpGrpcSpanExporter.class);
    http.forEach(SpanExporter::shutdown);
    grpc.forEach(SpanExporter::shutdown);
  }

  @Test
  void noneMeansNoExporter() {
    assertThat(exporters("otel.traces.exporter", "none")).isEmpty();
  }

  @Test
  void unknownNamesAndNoneWithOthersAreInvalidConfiguration() {
    assertThatThrownBy(() -> exporters("otel.traces.exporter", "carrier-pigeon"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("carrier-pigeon")
        .hasMessageContaining("otlp");
    assertThatThrownBy(() -> exporters("otel.traces.exporter", "none,otlp"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("none along with other exporters");
  }

  /** One failed OTLP export's self-metrics, with and without the agent's drop views. */
  static List<String> selfMetricNames(boolean dropped) throws Exception {
    io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader reader =
        io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader.create();
    io.opentelemetry.sdk.metrics.SdkMeterProviderBuilder b =
        io.opentelemetry.sdk.metrics.SdkMeterProvider.builder().registerMetricReader(reader);
    io.opentelemetry.sdk.metrics.SdkMeterProvider meters =
        (dropped ? TelemetrySdk.withoutSdkSelfMetrics(b) : b).build();
    io.opentelemetry.api.metrics.LongCounter own =
        meters.get("dev.redisresilience.agent").counterBuilder("redis.client.own").build();
    own.add(1);
    try (java.net.ServerSocket closed = new java.net.ServerSocket(0)) {
      int port = closed.getLocalPort();
      closed.close();
      io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter logs =
          io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter.builder()
              .setEndpoint("http://127.0.0.1:" + port + "/v1/logs")
              .setRetryPolicy(null)
              .setMeterProvider(() -> meters)
              .build();
      io.opentelemetry.sdk.logs.SdkLoggerProvider logger =
          io.opentelemetry.sdk.logs.SdkLoggerProvider.builder()
              .addLogRecordProcessor(
                  io.opentelemetry.sdk.logs.export.BatchLogRecordProcessor.builder(logs)
                      .setMeterProvider(() -> meters)
                      .build())
              .build();
      logger.get("t").logRecordBuilder().setBody("x").emit();
      logger.forceFlush().join(10, java.util.concurrent.TimeUnit.SECONDS);
      logger.shutdown().join(10, java.util.concurrent.TimeUnit.SECONDS);
    }
    List<String> names = new java.util.ArrayList<>();
    reader.collectAllMetrics().forEach(m -> names.add(m.getName()));
    meters.shutdown();
    java.util.Collections.sort(names);
    return names;
  }

  @Test
  void theSdksOwnExporterAndProcessorMetricsAreDropped() throws Exception {
    // the SDK does record them (the test sees real names, not guessed ones)
    assertThat(selfMetricNames(false))
        .contains("redis.client.own", "otlp.exporter.seen", "processedLogs", "queueSize");
    assertThat(selfMetricNames(true)).containsExactly("redis.client.own");
  }
}
