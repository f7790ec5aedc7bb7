package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.redisresilience.agent.telemetry.TelemetryNames;
import dev.redisresilience.harness.DashboardQueries;
import dev.redisresilience.harness.DashboardQueries.Query;
import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.Prometheus;
import dev.redisresilience.harness.demo.PrometheusDemo;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The shipped dashboard and alert rules against a real Prometheus (Debian's) scraping the
 * packaged agent's own endpoint, while the demo app runs the demo's faults (LOADING errors a retry
 * recovers, replies slower than the app's timeout, redis-server killed and restarted, a
 * maintenance window and a MOVING) and has no
 * collector (span and log exports fail). Every panel query and every alert expression is
 * evaluated over the run through the HTTP API: none may fail, and each one must return series,
 * except those over metrics nothing in this run produces (listed in {@link #MAY_BE_EMPTY}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PrometheusDashboardIT {
  /** Metrics with no source in this run: no agent fault. */
  static final Set<String> MAY_BE_EMPTY = Set.of(prom(TelemetryNames.AGENT_FAULTS) + "_total");

  /** Alerts whose condition the run's injected faults must make true (pending or firing). */
  static final Set<String> MUST_BECOME_ACTIVE =
      Set.of(
          "RedisRetryBudgetExhausted",
          "RedisClientReconnectLoop",
          "RedisAgentExportFailing",
          "RedisMaintenanceInProgress");

  // the demo's own length: in shorter runs the slow-reply phase is 1 s and may time nothing out
  private static final int SECONDS = 30;
  private PrometheusDemo run;
  private long runMillis;
  private Path dashboards;

  static String prom(String otlpName) {
    return otlpName.replace('.', '_');
  }

  @BeforeAll
  void runTheDemoWithPrometheus() throws Exception {
    dashboards = Paths.get(System.getProperty("dashboards.dir", "../../dashboards")).toAbsolutePath();
    Prometheus.binary(); // fails with how to install it, never skips
    long t0 = System.nanoTime();
    run =
        PrometheusDemo.run(
            ForkedJvm.agentJar(),
            SmokeSupport.appsDir(),
            SECONDS,
            dashboards.resolve("prometheus/alerts.yml"),
            System.out);
    runMillis = (System.nanoTime() - t0) / 1_000_000;
  }

  @AfterAll
  void stopPrometheus() {
    if (run != null) {
      run.close();
    }
  }

  private List<Query> panels() {
    return DashboardQueries.panels(
        dashboards.resolve("grafana/redis-resilience.json"), PrometheusDemo.RATE_INTERVAL);
  }

  private List<Query> alerts() {
    return DashboardQueries.alerts(dashboards.resolve("prometheus/alerts.yml"));
  }

  /** Series the expression returns over the run, at a 1 s step; fails on a Prometheus error. */
  private int seriesOverTheRun(Query q) {
    try {
      JsonNode data =
          run.prometheus.queryRange(q.expr, run.start.minusSeconds(5), run.end, Duration.ofSeconds(1));
      return data.path("result").size();
    } catch (Prometheus.PrometheusError e) {
      throw new AssertionError(q.source + ": Prometheus rejected `" + q.expr + "`: " + e.getMessage());
    }
  }

  private boolean mayBeEmpty(Query q) {
    return DashboardQueries.metricNames(q.expr).stream().allMatch(MAY_BE_EMPTY::contains);
  }

  @Test
  void theAppRanItsWorkloadAndExitedOnItsOwn() {
    // the endpoint's threads are daemons: the JVM ended when main did (await would have failed)
    run.app.assertSuccess();
    assertThat(run.app.stderr)
        .contains("[redis-resilience-agent] Prometheus metrics on http://127.0.0.1:")
        .doesNotContain("Prometheus endpoint not started")
        .doesNotContain("internal fault");
  }

  @Test
  void everyPanelQueryEvaluatesAndShowsTheInjectedFaults() {
    List<Query> panels = panels();
    assertThat(panels).hasSize(21);
    Map<String, Integer> series = new LinkedHashMap<>();
    List<String> empty = new ArrayList<>();
    for (Query q : panels) {
      int n = seriesOverTheRun(q);
      series.put(q.source + " [" + q.legend + "]", n);
      if (n == 0 && !mayBeEmpty(q)) {
        empty.add(q.source + ": " + q.expr);
      }
    }
    report("panel queries", series);
    assertThat(empty).as("panel queries without series under the injected faults").isEmpty();
  }

  @Test
  void everyAlertExpressionEvaluatesAndTheFaultsMakeTheirAlertsActive() {
    List<Query> alerts = alerts();
    assertThat(alerts).hasSize(10);
    Map<String, Integer> series = new LinkedHashMap<>();
    for (Query q : alerts) {
      series.put(q.source, seriesOverTheRun(q));
    }
    report("alert expressions (series where the condition held)", series);

    // Prometheus' own rule evaluation ran all of them every second, without an error
    JsonNode groups = run.prometheus.api("/api/v1/rules").path("groups");
    Map<String, String> health = new LinkedHashMap<>();
    for (JsonNode g : groups) {
      for (JsonNode r : g.path("rules")) {
        health.put(r.path("name").asText(), r.path("health").asText() + " " + r.path("lastError").asText());
      }
    }
    assertThat(health.keySet()).containsExactlyInAnyOrderElementsOf(series.keySet());
    assertThat(health).allSatisfy((name, h) -> assertThat(h).as(name).isEqualTo("ok "));

    // ... and the alerts for the faults this run injected went pending (their `for:` is longer)
    JsonNode active =
        run.prometheus
            .queryRange("ALERTS", run.start, run.end, Duration.ofSeconds(1))
            .path("result");
    Set<String> activeNames = new TreeSet<>();
    for (JsonNode s : active) {
      activeNames.add(s.path("metric").path("alertname").asText());
    }
    System.out.println("alerts that became active during the run: " + activeNames);
    assertThat(activeNames).containsAll(MUST_BECOME_ACTIVE);
    for (String name : MUST_BECOME_ACTIVE) {
      assertThat(series.get(name)).as(name + " expression").isPositive();
    }
  }

  @Test
  void everyMetricNameIsATelemetryNameAndTheEndpointServesIt() throws Exception {
    Set<String> known = prometheusNamesOf(TelemetryNames.class);
    Set<String> used = new TreeSet<>();
    for (Query q : panels()) {
      used.addAll(DashboardQueries.metricNames(q.expr));
    }
    for (Query q : alerts()) {
      used.addAll(DashboardQueries.metricNames(q.expr));
    }
    assertThat(used).as("metric names in the dashboard and alerts").hasSizeGreaterThan(10);
    assertThat(known).as("names TelemetryNames defines").containsAll(used);

    Set<String> served =
        run.lastScrape.lines()
            .filter(l -> !l.startsWith("#") && !l.isBlank())
            .map(l -> l.replaceAll("[{ ].*", ""))
            .collect(Collectors.toCollection(TreeSet::new));
    System.out.println("the agent's endpoint served: " + served);
    Set<String> expectedServed = new TreeSet<>(used);
    expectedServed.removeAll(MAY_BE_EMPTY);
    assertThat(served).as("names the agent's endpoint served").containsAll(expectedServed);
  }

  @Test
  void promtoolChecksAndUnitTestsTheAlertRules() throws Exception {
    Path rules = dashboards.resolve("prometheus");
    String check = promtool(rules, "check", "rules", "alerts.yml");
    assertThat(check).contains("SUCCESS: " + alerts().size() + " rules found");
    String test = promtool(rules, "test", "rules", "alerts.test.yml");
    assertThat(test).contains("SUCCESS");
  }

  private static String promtool(Path dir, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Prometheus.promtool());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("promtool " + String.join(" ", args) + " did not finish in 60s");
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as("promtool " + String.join(" ", args) + ":\n" + out).isZero();
    return out;
  }

  /**
   * Every Prometheus name a TelemetryNames value can have under the exporter's translation: dots
   * to underscores, then a counter's {@code _total}, a histogram's {@code _bucket/_sum/_count},
   * with or without the {@code _seconds} unit suffix.
   */
  static Set<String> prometheusNamesOf(Class<?> names) throws IllegalAccessException {
    Set<String> out = new TreeSet<>();
    for (Field f : names.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
        String base = prom((String) f.get(null));
        out.add(base);
        out.add(base + "_total");
        for (String unit : List.of("", "_seconds")) {
          for (String part : List.of("_bucket", "_sum", "_count")) {
            out.add(base + unit + part);
          }
        }
      }
    }
    return out;
  }

  private void report(String what, Map<String, Integer> series) {
    long nonEmpty = series.values().stream().filter(n -> n > 0).count();
    System.out.printf(
        "%d %s evaluated over a %ds run (IT set-up %.1fs): %d returned series%n",
        series.size(), what, SECONDS, runMillis / 1000.0, nonEmpty);
    series.forEach((k, v) -> System.out.printf("  %3d  %s%n", v, k));
  }
}
