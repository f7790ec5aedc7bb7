package dev.redisresilience.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.AgentLog;
import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.ConfigLoader;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.SdkMeterProviderBuilder;
import io.opentelemetry.sdk.resources.Resource;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The opt-in scrape endpoint on OpenTelemetry's Prometheus exporter, with a real HTTP scrape. */
class PrometheusEndpointTest {
  private final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private SdkMeterProvider provider;

  @AfterEach
  void tearDown() {
    AgentLog.setOutput(System.err);
    if (provider != null) {
      provider.shutdown().join(5, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  private SdkMeterProvider start(AgentConfig config) throws Exception {
    AgentLog.setOutput(new PrintStream(log, true, StandardCharsets.UTF_8));
    // started from a daemon thread, as the agent's set-up thread does
    AtomicReference<SdkMeterProvider> built = new AtomicReference<>();
    Thread t =
        new Thread(
            () -> {
              SdkMeterProviderBuilder b =
                  SdkMeterProvider.builder()
                      .setResource(
                          Resource.getDefault().toBuilder()
                              .put(AttributeKey.stringKey("service.name"), "checkout")
                              .build());
              built.set(PrometheusEndpoint.register(b, config, null).build());
            });
    t.setDaemon(true);
    t.start();
    t.join(10_000);
    provider = built.get();
    return provider;
  }

  private static AgentConfig withPort(int port, String... more) {
    Map<String, String> props = new java.util.HashMap<>();
    props.put("redis.resilience.prometheus.port", String.valueOf(port));
    for (int i = 0; i < more.length; i += 2) {
      props.put(more[i], more[i + 1]);
    }
    return ConfigLoader.load(props, Map.of());
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static String scrape(int port) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /** Lines of the exposition for one metric family, without comments. */
  private static List<String> samples(String body, String prefix) {
    return body.lines().filter(l -> l.startsWith(prefix)).sorted().collect(Collectors.toList());
  }

  @Test
  void servesTheAgentsMetricsUnderTheirPrometheusNames() throws Exception {
    int port = freePort();
    SdkMeterProvider p = start(withPort(port));
    OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setMeterProvider(p).build();
    new Telemetry(otel, AgentConfig.defaults(), null); // registers the agent's own metrics
    ResilienceTelemetry jedis =
        new ClientTelemetry("jedis", otel, AgentConfig.defaults(), null).resilience();
    jedis.reconnect(null, true);
    jedis.reconnect(null, true);
    jedis.reconnect(null, false);

    String body = scrape(port);
    String scope = "otel_scope_name=\"dev.redisresilience.agent.jedis\"";
    String version = "otel_scope_version=\"" + AgentVersion.get() + "\"";
    assertThat(samples(body, "redis_client_reconnects_total"))
        .containsExactly(
            "redis_client_reconnects_total{db_system_name=\"redis\","
                + scope + "," + version
                + ",redis_client_reconnect_outcome=\"failure\",service_name=\"checkout\"} 1.0",
            "redis_client_reconnects_total{db_system_name=\"redis\","
                + scope + "," + version
                + ",redis_client_reconnect_outcome=\"success\",service_name=\"checkout\"} 2.0");
    // observed from the start, so a healthy agent shows 0 instead of no series
    assertThat(samples(body, "redis_resilience_agent_export_failures_total"))
        .containsExactly(
            "redis_resilience_agent_export_failures_total{otel_scope_name=\"dev.redisresilience.agent.agent\","
                + "redis_resilience_export_signal=\"logs\",service_name=\"checkout\"} 0.0",
            "redis_resilience_agent_export_failures_total{otel_scope_name=\"dev.redisresilience.agent.agent\","
                + "redis_resilience_export_signal=\"metrics\",service_name=\"checkout\"} 0.0",
            "redis_resilience_agent_export_failures_total{otel_scope_name=\"dev.redisresilience.agent.agent\","
                + "redis_resilience_export_signal=\"spans\",service_name=\"checkout\"} 0.0");
    assertThat(log.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "[redis-resilience-agent] Prometheus metrics on http://127.0.0.1:" + port + "/metrics\n");
  }

  @Test
  void bindsLoopbackOnlyByDefaultAndRunsOnDaemonThreads() throws Exception {
    int port = freePort();
    start(withPort(port));
    String hexPort = String.format(Locale.ROOT, ":%04X", port);
    // the JDK may listen on an IPv6 socket; loopback shows as 127.0.0.1 or ::ffff:127.0.0.1
    List<String> listening = new java.util.ArrayList<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      for (String line : Files.readAllLines(Paths.get(table))) {
        String[] f = line.trim().split("\\s+");
        if (f[1].endsWith(hexPort) && f[3].equals("0A")) { // 0A = LISTEN
          listening.add(f[1]);
        }
      }
    }
    assertThat(listening)
        .hasSize(1)
        .allMatch(
            a -> a.equals("0100007F" + hexPort)
                || a.equals("0000000000000000FFFF00000100007F" + hexPort));

    scrape(port); // runs the exporter's request threads
    List<Thread> serverThreads =
        Thread.getAllStackTraces().keySet().stream()
            .filter(th -> th.getName().startsWith("prometheus-http-server")
                || th.getName().startsWith("HTTP-Dispatcher"))
            .collect(Collectors.toList());
    assertThat(serverThreads).isNotEmpty().allMatch(Thread::isDaemon);
  }

  @Test
  void aPortInUseIsOneWarningAndTheMetricsStillWork() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      SdkMeterProvider p = start(withPort(port));
      assertThat(p).isNotNull();
      assertThat(log.toString(StandardCharsets.UTF_8))
          .isEqualTo(
              "[redis-resilience-agent] warn: Prometheus endpoint not started on 127.0.0.1:" + port
                  + " (BindException: Address already in use); the agent and OTLP export"
                  + " continue\n");
      p.get("x").counterBuilder("c").build().add(1); // the meter provider is unaffected
    }
  }

  @Test
  void offByDefault() throws Exception {
    SdkMeterProvider p = start(AgentConfig.defaults());
    assertThat(p).isNotNull();
    assertThat(log.toString(StandardCharsets.UTF_8)).isEmpty();
  }
}
