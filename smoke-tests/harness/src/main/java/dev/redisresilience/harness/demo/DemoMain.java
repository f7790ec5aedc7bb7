package dev.redisresilience.harness.demo;

import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.MaintenanceSimulator;
import dev.redisresilience.harness.MaintenanceSimulator.Endpoint;
import dev.redisresilience.harness.MetricPoint;
import dev.redisresilience.harness.OtlpReceiver;
import dev.redisresilience.harness.ReceivedSpan;
import dev.redisresilience.harness.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The README's demo: a local redis-server, an embedded OTLP receiver, and the demo app with the
 * agent attached. Prints a once-a-second summary of what the agent reports through the faults of
 * {@link FaultTimeline}: LOADING errors, slow replies, an outage (redis-server killed with SIGKILL
 * and restarted), a maintenance window and a MOVING to a second redis-server, pushed the way Redis
 * Software pushes them (the maintenance simulator in front of the servers).
 *
 * <p>Args: agentJar appsDir [seconds]
 */
public final class DemoMain {
  /** Counters the agent exports; each gets a column (per-second increase). */
  static final String[][] COUNTERS = {
    {"retries", "redis.client.retries"},
    {"timeouts", "redis.client.timeouts"},
    {"reconnects", "redis.client.reconnects"},
    {"maint", "redis.client.maintenance.notifications"},
  };

  private final List<double[]> window = new ArrayList<>(); // [durationMs]
  private final Map<String, Integer> errors = new TreeMap<>();
  private long totalSpans;

  public static void main(String[] args) throws Exception {
    Path agent = Paths.get(args[0]).toAbsolutePath();
    Path apps = Paths.get(args[1]).toAbsolutePath();
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 30;
    new DemoMain().run(agent, apps, seconds);
  }

  private synchronized void onSpan(ReceivedSpan s) {
    totalSpans++;
    window.add(new double[] {s.durationSeconds() * 1000});
    Object type = s.attributes.get("error.type");
    if (type != null) {
      errors.merge(type.toString(), 1, Integer::sum);
    }
  }

  private void run(Path agent, Path apps, int seconds) throws Exception {
    try (RedisServer redis = RedisServer.start();
        RedisServer target = RedisServer.start();
        MaintenanceSimulator sim = MaintenanceSimulator.start(redis, target);
        OtlpReceiver receiver = OtlpReceiver.startHttpOnly()) {
      receiver.onSpan(this::onSpan);
      Path appDir = apps.resolve("demo-app");
      String cp = appDir.resolve("target/classes") + java.io.File.pathSeparator
          + Files.readString(appDir.resolve("target/classpath.txt")).trim();
      FaultTimeline tl = new FaultTimeline(seconds);
      System.out.println("redis-server on 127.0.0.1:" + redis.port() + " behind a fault and maintenance"
          + " proxy on 127.0.0.1:" + sim.primaryPort() + " (MOVING target: redis-server on 127.0.0.1:"
          + target.port() + " behind " + sim.targetAddress() + "), OTLP receiver on "
          + receiver.httpEndpoint() + ", agent " + agent.getFileName());
      System.out.println("demo app: 2 Jedis threads (a pool, RESP3) + 1 Lettuce thread (async), ~300"
          + " calls/s each, for " + seconds + "s.");
      System.out.println("faults: " + tl.describe() + "\n");
      ForkedJvm app =
          ForkedJvm.builder()
              .name("demo-app")
              .agent(agent)
              .otlp(receiver, "http/protobuf")
              .env("OTEL_BSP_SCHEDULE_DELAY", "200")
              .env("OTEL_BSP_MAX_QUEUE_SIZE", "20000")
              .env("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2048")
              .env("OTEL_METRIC_EXPORT_INTERVAL", "1000")
              .env("OTEL_SERVICE_NAME", "demo-app")
              .classpath(cp)
              .mainClass("dev.redisresilience.apps.demo.DemoApp")
              .args("127.0.0.1", String.valueOf(sim.primaryPort()), String.valueOf(seconds), "300")
              .build()
              .start();

      // the timeline starts when the app is up and its first operations arrive
      long waitUntil = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (app.isAlive() && System.nanoTime() < waitUntil) {
        synchronized (this) {
          if (totalSpans > 0) {
            window.clear();
            errors.clear();
            break;
          }
        }
        Thread.sleep(20);
      }
      System.out.printf("%5s %7s %9s %9s %9s %9s %11s %6s  %s%n",
          "time", "ops/s", "p50", "p99", "retries", "timeouts", "reconnects", "maint", "errors (by error.type)");
      Map<String, Double> lastCounters = new TreeMap<>();
      for (int t = 1; t <= seconds + 2 && app.isAlive(); t++) {
        Thread.sleep(1000);
        String marker = tl.apply(t, sim);
        List<double[]> w;
        Map<String, Integer> e;
        synchronized (this) {
          w = new ArrayList<>(window);
          window.clear();
          e = new TreeMap<>(errors);
          errors.clear();
        }
        List<Double> d = new ArrayList<>();
        for (double[] x : w) {
          d.add(x[0]);
        }
        Collections.sort(d);
        String[] counters = new String[COUNTERS.length];
        for (int i = 0; i < COUNTERS.length; i++) {
          double now = receiver.total(COUNTERS[i][1], a -> true);
          boolean present = !receiver.latestPoints(COUNTERS[i][1]).isEmpty();
          double prev = lastCounters.getOrDefault(COUNTERS[i][1], 0.0);
          lastCounters.put(COUNTERS[i][1], now);
          counters[i] = present ? String.valueOf((long) (now - prev)) : "-";
        }
        System.out.printf("%4ds %7d %9s %9s %9s %9s %11s %6s  %s%s%n",
            t, d.size(), pct(d, 0.50), pct(d, 0.99), counters[0], counters[1], counters[2], counters[3],
            e.isEmpty() ? "-" : e.toString(), marker);
      }
      ForkedJvm.Result r = app.await(Duration.ofSeconds(30));
      long histogram = 0;
      for (MetricPoint p : receiver.latestPoints("db.client.operation.duration")) {
        histogram += p.count;
      }
      System.out.println();
      System.out.println(r.stdout.trim());
      for (String line : r.agentLines()) {
        System.out.println(line);
      }
      StringBuilder maint = new StringBuilder();
      for (String type : new String[] {"MIGRATING", "MIGRATED", "MOVING"}) {
        maint.append(maint.length() == 0 ? "" : ", ").append(type).append(' ').append((long) receiver.total(
            "redis.client.maintenance.notifications",
            a -> type.equals(a.get("redis.client.connection.notification"))));
      }
      System.out.println("maintenance notifications reported: " + maint);
      System.out.println("MOVING: " + sim.clients(Endpoint.TARGET).size() + " connections made to the"
          + " target, " + commands(sim, Endpoint.TARGET) + " commands sent there; "
          + (long) receiver.total("redis.client.connection.handoff", a -> true) + " hand-offs reported");
      synchronized (this) {
        System.out.println("receiver: " + totalSpans + " spans, db.client.operation.duration count "
            + histogram + " (one per operation)");
      }
      if (r.exitCode != 0) {
        System.out.println("demo app exited with " + r.exitCode + "\n" + r.stderr);
        System.exit(1);
      }
    }
  }

  static long commands(MaintenanceSimulator sim, Endpoint e) {
    return sim.clients(e).stream().mapToLong(c -> c.commands().size()).sum();
  }

  static String pct(List<Double> sorted, double p) {
    if (sorted.isEmpty()) {
      return "-";
    }
    double v = sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    return v < 10 ? String.format("%.2fms", v) : String.format("%.0fms", v);
  }
}
