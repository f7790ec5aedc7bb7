package dev.redisresilience.agent.telemetry.prometheus;

import io.opentelemetry.exporter.prometheus.PrometheusHttpServer;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import java.util.function.BiFunction;

/**
 * Starts OpenTelemetry's Prometheus HTTP server on (host, port). The only class that names the
 * exporter: in the agent it is loaded by {@link ExporterClassLoader}, because the exporter needs
 * {@code com.sun.net.httpserver} (module jdk.httpserver, platform class loader), which classes on
 * the bootstrap class path cannot see.
 */
public final class PrometheusServerStarter implements BiFunction<String, Integer, MetricReader> {
  /** {@code service.name} becomes the {@code service_name} label of every series. */
  static final String SERVICE_NAME = "service.name";

  @Override
  public MetricReader apply(String host, Integer port) {
    return PrometheusHttpServer.builder()
        .setHost(host)
        .setPort(port)
        // a collector with resource_to_telemetry_conversion gives the same label, so one
        // dashboard variable serves both ways in
        .setAllowedResourceAttributesFilter(SERVICE_NAME::equals)
        .build();
  }
}
