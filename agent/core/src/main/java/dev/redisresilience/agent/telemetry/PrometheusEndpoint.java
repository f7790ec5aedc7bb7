package dev.redisresilience.agent.telemetry;

import dev.redisresilience.agent.AgentLog;
import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.Settings;
import dev.redisresilience.agent.telemetry.prometheus.ExporterClassLoader;
import io.opentelemetry.sdk.metrics.SdkMeterProviderBuilder;
import io.opentelemetry.sdk.metrics.export.MetricReader;
import java.util.function.BiFunction;

/**
 * The opt-in scrape endpoint ({@code redis.resilience.prometheus.port}) for teams without a
 * collector: OpenTelemetry's own Prometheus exporter, registered as one more metric reader beside
 * OTLP, so the names it serves are the exporter's standard translation of {@link TelemetryNames}.
 *
 * <p>It never costs the application anything it did not ask for: off by default, loopback only
 * unless {@code prometheus.host} says otherwise, daemon threads only (the exporter's own executor;
 * the JDK's dispatcher thread inherits the daemon flag of the agent's set-up thread that starts
 * it), and a port that cannot be bound (or a JDK without jdk.httpserver) is one warning line,
 * not a failure.
 */
public final class PrometheusEndpoint {
  private static final String STARTER =
      "dev.redisresilience.agent.telemetry.prometheus.PrometheusServerStarter";

  private PrometheusEndpoint() {}

  /**
   * Adds the endpoint's reader to {@code builder} when a port is configured.
   *
   * @param agentJar the agent jar the exporter is loaded from (see {@link ExporterClassLoader});
   *     null when the agent's classes are on the application class path (tests)
   */
  public static SdkMeterProviderBuilder register(
      SdkMeterProviderBuilder builder, AgentConfig config, String agentJar) {
    int port = config.get(Settings.PROMETHEUS_PORT);
    if (port == 0) {
      return builder;
    }
    String host = config.get(Settings.PROMETHEUS_HOST);
    try {
      builder.registerMetricReader(starter(agentJar).apply(host, port));
      AgentLog.info("Prometheus metrics on http://" + hostPort(host, port) + "/metrics");
    } catch (RuntimeException | LinkageError | ReflectiveOperationException | java.io.IOException e) {
      AgentLog.warn(
          "Prometheus endpoint not started on "
              + hostPort(host, port)
              + " ("
              + rootMessage(e)
              + "); the agent and OTLP export continue");
    }
    return builder;
  }

  @SuppressWarnings("unchecked")
  private static BiFunction<String, Integer, MetricReader> starter(String agentJar)
      throws ReflectiveOperationException, java.io.IOException {
    ClassLoader loader =
        agentJar == null
            ? PrometheusEndpoint.class.getClassLoader()
            : new ExporterClassLoader(agentJar);
    return (BiFunction<String, Integer, MetricReader>)
        Class.forName(STARTER, true, loader).getDeclaredConstructor().newInstance();
  }

  private static String hostPort(String host, int port) {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  private static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String m = root.getMessage();
    return root.getClass().getSimpleName() + (m == null ? "" : ": " + m.replace('\n', ' '));
  }
}
