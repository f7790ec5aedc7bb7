package dev.redisresilience.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's {@code prometheus} binary on a free loopback port, scraping the given targets every
 * second, with an HTTP API client for instant and range queries.
 */
public final class Prometheus implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Process process;
  private final Path dir;
  private final int port;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private Prometheus(Process process, Path dir, int port) {
    this.process = process;
    this.dir = dir;
    this.port = port;
  }

  /** The prometheus binary, or a failure that says how to get it (never a silent skip). */
  public static String binary() {
    for (String candidate : List.of("/usr/bin/prometheus", "/usr/local/bin/prometheus")) {
      if (Files.isExecutable(Paths.get(candidate))) {
        return candidate;
      }
    }
    throw new IllegalStateException(
        "prometheus is not installed: `apt-get install prometheus` (Debian's package;"
            + " scripts/test.sh installs it)");
  }

  /** The promtool binary that comes with Debian's prometheus package. */
  public static String promtool() {
    Path p = Paths.get(binary()).resolveSibling("promtool");
    if (!Files.isExecutable(p)) {
      throw new IllegalStateException("promtool is missing next to " + binary());
    }
    return p.toString();
  }

  /**
   * @param targets host:port of each /metrics endpoint to scrape (job "agent")
   * @param ruleFile alerting rules to load and evaluate every second, or null
   */
  public static Prometheus start(List<String> targets, Path ruleFile) {
    String bin = binary();
    try {
      Path dir = Files.createTempDirectory("prometheus-");
      StringBuilder cfg = new StringBuilder();
      cfg.append("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n");
      if (ruleFile != null) {
        cfg.append("rule_files:\n  - '").append(ruleFile.toAbsolutePath()).append("'\n");
      }
      cfg.append("scrape_configs:\n  - job_name: agent\n    static_configs:\n      - targets: [");
      for (int i = 0; i < targets.size(); i++) {
        cfg.append(i == 0 ? "" : ", ").append('\'').append(targets.get(i)).append('\'');
      }
      cfg.append("]\n");
      Path config = dir.resolve("prometheus.yml");
      Files.writeString(config, cfg);
      int port = Ports.free();
      Process p =
          new ProcessBuilder(
                  bin,
                  "--config.file=" + config,
                  "--storage.tsdb.path=" + dir.resolve("data"),
                  "--web.listen-address=127.0.0.1:" + port,
                  "--log.level=warn")
              .redirectErrorStream(true)
              .redirectOutput(dir.resolve("prometheus.log").toFile())
              .start();
      Prometheus prom = new Prometheus(p, dir, port);
      prom.awaitReady(Duration.ofSeconds(30));
      return prom;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("prometheus exited: " + log());
      }
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(base() + "/-/ready"))
                    .timeout(Duration.ofSeconds(2))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      sleep(100);
    }
    throw new IllegalStateException("prometheus not ready within " + timeout + ": " + log());
  }

  public String base() {
    return "http://127.0.0.1:" + port;
  }

  /** The {@code data} of an instant query at {@code time}; fails on an error status. */
  public JsonNode query(String expr, Instant time) {
    return api("/api/v1/query?query=" + enc(expr) + "&time=" + time.getEpochSecond());
  }

  /** The {@code data} of a range query; fails with Prometheus' error text on an error status. */
  public JsonNode queryRange(String expr, Instant start, Instant end, Duration step) {
    return api(
        "/api/v1/query_range?query="
            + enc(expr)
            + "&start="
            + start.getEpochSecond()
            + "&end="
            + end.getEpochSecond()
            + "&step="
            + step.toSeconds());
  }

  /** The {@code data} of any API call; fails with Prometheus' error text on an error status. */
  public JsonNode api(String pathAndQuery) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(base() + pathAndQuery))
                  .timeout(Duration.ofSeconds(30))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      JsonNode body = JSON.readTree(r.body());
      if (!"success".equals(body.path("status").asText())) {
        throw new PrometheusError(
            body.path("errorType").asText() + ": " + body.path("error").asText());
      }
      return body.path("data");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Waits until {@code expr} returns at least one series (bounded by {@code timeout}). */
  public boolean awaitSeries(String expr, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (query(expr, Instant.now()).path("result").size() > 0) {
        return true;
      }
      sleep(250);
    }
    return false;
  }

  /** An error status from the HTTP API (bad query, evaluation failure). */
  public static final class PrometheusError extends RuntimeException {
    PrometheusError(String message) {
      super(message);
    }
  }

  public String log() {
    try {
      return Files.readString(dir.resolve("prometheus.log"));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // a temp dir left behind is harmless
    }
  }
}
