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
}
