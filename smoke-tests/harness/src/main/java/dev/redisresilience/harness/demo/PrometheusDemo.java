package dev.redisresilience.harness.demo;

import dev.redisresilience.harness.MaintenanceSimulator;
import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.Ports;
import dev.redisresilience.harness.Prometheus;
import dev.redisresilience.harness.RedisServer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The demo's workload and faults (see {@link FaultTimeline}) with Prometheus scraping the agent's
 * own endpoint every second, instead of the demo's OTLP table. There is no collector: OTLP goes to
 * a closed loopback port, so span and log exports fail (a fault of its own, for the agent-health
 * panels), and the OTLP metric exporter is off, as for a team that only scrapes.
 *
 * <p>When {@link #run} returns, the app has exited and Prometheus (still running, closed by
 * {@link #close}) holds the whole run.
 */
public final class PrometheusDemo implements AutoCloseable {
  /** What Grafana makes of $__rate_interval at this 1 s scrape interval: 4 x the interval. */
  public static final String RATE_INTERVAL = "4s";

  public final Prometheus prometheus;
  public final Instant start;
  public final Instant end;
  public final ForkedJvm.Result app;
  /** The agent endpoint's /metrics bodies, one in the maintenance window and one after the MOVING. */
  public final String lastScrape;
  public final FaultTimeline timeline;
  /**
   * The app runs this much longer than the timeline: it starts before t = 1 (Prometheus must have
   * scraped its first operations), and the last faults must still find it running.
   */
  static final int APP_EXTRA_SECONDS = 6;

  private PrometheusDemo(
      Prometheus prometheus,
      Instant start,
      Instant end,
      ForkedJvm.Result app,
      String lastScrape,
      FaultTimeline timeline) {
    this.prometheus = prometheus;
    this.start = start;
    this.end = end;
    this.app = app;
    this.lastScrape = lastScrape;
    this.timeline = timeline;
  }

  /**
   * @param agentJar the packaged agent; the app gets a copy of it
   * @param appsDir smoke-tests/apps (demo-app must be built)
   * @param seconds length of the workload
   * @param ruleFile alert rules Prometheus evaluates every second, or null
   */
  public static PrometheusDemo run(
      Path agentJar, Path appsDir, int seconds, Path ruleFile, PrintStream log) throws Exception {
    // a copy: a rebuild of the jar during the run cannot change what the app has attached
    Path copy = Files.createTempDirectory("agent-copy-").resolve("redis-resilience-agent.jar");
    Files.copy(agentJar, copy, StandardCopyOption.REPLACE_EXISTING);
    copy.getParent().toFile().deleteOnExit(); // deleted after the file: reverse order
    copy.toFile().deleteOnExit();
    int metricsPort = Ports.free();
    Prometheus prom = Prometheus.start(List.of("127.0.0.1:" + metricsPort), ruleFile);
    try (RedisServer redis = RedisServer.start();
        RedisServer target = RedisServer.start();
        MaintenanceSimulator sim = MaintenanceSimulator.start(redis, target)) {
      Path appDir = appsDir.resolve("demo-app");
      String cp;
      try {
        cp = appDir.resolve("target/classes") + java.io.File.pathSeparator
            + Files.readString(appDir.resolve("target/classpath.txt")).trim();
      } catch (IOException e) {
        throw new UncheckedIOException("build the apps first (mvn package): " + appDir, e);
      }
      FaultTimeline tl = new FaultTimeline(seconds);
      log.println("redis-server 127.0.0.1:" + redis.port() + " behind a fault and maintenance proxy on"
          + " 127.0.0.1:" + sim.primaryPort() + "; the agent serves 127.0.0.1:" + metricsPort + "/metrics; prometheus on "
          + prom.base() + " scrapes it every second");
      log.println("faults: " + tl.describe() + " All along, no collector (OTLP to a closed port).");
      int closedPort = Ports.free();
      ForkedJvm jvm =
          ForkedJvm.builder()
              .name("demo-app")
              .agent(copy)
              .sysProp("redis.resilience.prometheus.port", String.valueOf(metricsPort))
              // idle pooled connections get health-checked within the short run
              .sysProp("redis.resilience.health-check.interval", "20ms")
              .env("OTEL_SERVICE_NAME", "demo-app")
              .env("OTEL_METRICS_EXPORTER", "none")
              .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + closedPort)
              .env("OTEL_EXPORTER_OTLP_TIMEOUT", "1000")
              .env("OTEL_BSP_SCHEDULE_DELAY", "200")
              .env("OTEL_BLRP_SCHEDULE_DELAY", "200")
              .classpath(cp)
              .mainClass("dev.redisresilience.apps.demo.DemoApp")
              .args("127.0.0.1", String.valueOf(sim.primaryPort()), String.valueOf(seconds + APP_EXTRA_SECONDS), "300")
              .build()
              .start();
      // the timeline starts once Prometheus has scraped the app's first operations
      if (!prom.awaitSeries("db_client_operation_duration_seconds_count", Duration.ofSeconds(60))) {
        jvm.kill();
        throw new AssertionError("no db_client_operation_duration_seconds_count scraped within 60s;"
            + " app stderr:\n" + jvm.stderr() + "\nprometheus:\n" + prom.log());
      }
      Instant start = Instant.now();
      String lastScrape = "";
      for (int t = 1; t <= seconds && jvm.isAlive(); t++) {
        Thread.sleep(1000);
        String marker = tl.apply(t, sim);
        if (!marker.isEmpty()) {
          log.println(t + "s" + marker);
        }
        // what the endpoint serves: during the maintenance window (connections relaxed now: a
        // gauge of the present, empty again once they are handed off) and after the MOVING
        if (t == tl.migratingFrom + 1) {
          lastScrape = scrape(metricsPort);
        }
        if (t == tl.movingAt + 2) { // every other fault has left its series by then
          lastScrape = lastScrape + "\n" + scrape(metricsPort);
        }
      }
      ForkedJvm.Result r = jvm.await(Duration.ofSeconds(60));
      Thread.sleep(1500); // the last scrape of a counter that moved at the end
      Instant end = Instant.now();
      log.println(r.stdout.trim());
      return new PrometheusDemo(prom, start, end, r, lastScrape, tl);
    } catch (Exception | Error e) {
      prom.close();
      throw e;
    }
  }

  private static String scrape(int port) {
    try {
      return HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (IOException e) {
      return "(scrape failed: " + e + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  @Override
  public void close() {
    prometheus.close();
  }
}
