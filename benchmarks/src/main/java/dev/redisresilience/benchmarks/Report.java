package dev.redisresilience.benchmarks;

import dev.redisresilience.benchmarks.BenchmarkDriver.Agent;
import dev.redisresilience.benchmarks.BenchmarkDriver.Check;
import dev.redisresilience.benchmarks.BenchmarkDriver.Kind;
import dev.redisresilience.benchmarks.BenchmarkDriver.Options;
import dev.redisresilience.benchmarks.BenchmarkDriver.Sample;
import dev.redisresilience.benchmarks.BenchmarkDriver.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The markdown report: medians, min-max, ratios to no agent, targets met / not met. */
final class Report {
  static final double JAR_LIMIT_BYTES = 8.0 * 1024 * 1024; // 8 MiB
  static final double STARTUP_LIMIT_MS = 150;

  private final Options o;
  private final List<Sample> samples;
  private final Map<Agent, List<Double>> startupMs;
  private final Map<Agent, List<Double>> startupMainMs;
  private final Map<Agent, Check> checks;
  private final double elapsedSeconds;
  private final List<Double> startupForeignCpu;
  private final double idleCheckForeignCpu;
  private final int repeats;
  private final double waitedSeconds;
  private final StringBuilder md = new StringBuilder();

  Report(Options o, List<Sample> samples, Map<Agent, List<Double>> startupMs,
      Map<Agent, List<Double>> startupMainMs, Map<Agent, Check> checks, double elapsedSeconds,
      List<Double> startupForeignCpu, double idleCheckForeignCpu, int repeats,
      double waitedSeconds) {
    this.repeats = repeats;
    this.waitedSeconds = waitedSeconds;
    this.startupForeignCpu = startupForeignCpu;
    this.idleCheckForeignCpu = idleCheckForeignCpu;
    this.o = o;
    this.samples = samples;
    this.startupMs = startupMs;
    this.startupMainMs = startupMainMs;
    this.checks = checks;
    this.elapsedSeconds = elapsedSeconds;
  }

  /** Median, min, max of a list of numbers. */
  static final class Stats {
    final double median;
    final double min;
    final double max;
    final int n;

    Stats(List<Double> values) {
      if (values.isEmpty()) {
        throw new IllegalArgumentException("no samples");
      }
      List<Double> v = new ArrayList<>(values);
      Collections.sort(v);
      n = v.size();
      median = n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
      min = v.get(0);
      max = v.get(n - 1);
    }
  }

  private Stats stats(Workload w, Agent a, ToDoubleFunction<Sample> f) {
    List<Double> v = new ArrayList<>();
    for (Sample s : samples) {
      if (s.workload == w && s.agent == a) {
        v.add(f.applyAsDouble(s));
      }
    }
    return new Stats(v);
  }

  private Stats value(Workload w, Agent a) {
    return stats(w, a, s -> s.value);
  }

  /** median(agent) / median(no agent): throughput ratio, or time ratio for the pipeline. */
  private double ratio(Workload w, Agent a) {
    return value(w, a).median / value(w, Agent.NONE).median;
  }

  /** How much worse than no agent: 1 - ratio for throughput, ratio - 1 for time. */
  private double slowdown(Workload w, Agent a) {
    double r = ratio(w, a);
    return w.kind == Kind.THROUGHPUT ? 1 - r : r - 1;
  }

  /** Met when ours is at most half of OTel's; no slowdown at all counts as met. */
  static boolean halfOrLess(double ours, double otel) {
    return ours <= 0 || ours <= otel / 2;
  }

  String markdown() {
    Map<String, String> m = BenchmarkDriver.machine();
    String date = ZonedDateTime.now(ZoneOffset.UTC).format(
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT));
    String appCp = o.classes + java.io.File.pathSeparator + read(o.appClasspathFile);
    String ourVersion = BenchmarkDriver.jarVersion(o.agentJar);
    String otelVersion = BenchmarkDriver.jarVersion(o.otelJar);

    line("# Overhead benchmark: redis-resilience-agent vs no agent vs the OpenTelemetry Java agent");
    line("");
    if (o.quick) {
      line("> **QUICK mode (smoke run): 1 round, tiny durations. NOT comparable; the numbers only"
          + " show that the benchmark works.** Full results: `benchmarks/results/latest.md`.");
      line("");
    }
    List<Double> foreign = new ArrayList<>(startupForeignCpu);
    int busyRuns = 0;
    for (Sample s : samples) {
      foreign.add(s.foreignCpu);
    }
    for (double f : foreign) {
      if (f > BenchmarkDriver.FOREIGN_CPU_WARNING) {
        busyRuns++;
      }
    }
    Stats foreignStats = new Stats(foreign);
    if (busyRuns > 0 || idleCheckForeignCpu > BenchmarkDriver.FOREIGN_CPU_WARNING) {
      line(String.format(Locale.ROOT, "> **WARNING: the machine was not idle.** Other processes"
          + " used more than %.0f%% of the CPUs during %d of %d runs (median %.0f%%, max %.0f%%;"
          + " %.0f%% just before the start). Those runs are disturbed; treat the numbers with"
          + " care and re-run on a quiet machine.",
          100 * BenchmarkDriver.FOREIGN_CPU_WARNING, busyRuns, foreign.size(),
          100 * foreignStats.median, 100 * foreignStats.max, 100 * idleCheckForeignCpu));
      line("");
    }
    line("- Date: " + date + " (run took " + String.format(Locale.ROOT, "%.0f", elapsedSeconds)
        + " s)");
    line("- Machine: " + m.get("cores") + " cores (" + m.get("cpu") + "), " + m.get("memory")
        + " RAM, " + m.get("os") + ", Linux " + m.get("kernel"));
    line("- JDK: " + m.get("jdk") + ", default JVM flags (no -Xmx, default GC)");
    line("- Versions: redis-resilience-agent " + ourVersion + " (built from " + o.agentBuild
        + ", jar sha256 " + BenchmarkDriver.sha256(o.agentJar) + "), opentelemetry-javaagent "
        + otelVersion + ", Jedis " + BenchmarkDriver.versionOnClasspath(appCp, "jedis")
        + ", Lettuce " + BenchmarkDriver.versionOnClasspath(appCp, "lettuce-core")
        + ", redis-server " + BenchmarkDriver.redisVersion() + " (loopback, same machine)");
    line(String.format(Locale.ROOT,
        "- Method: %d round(s); in each round every workload runs in a fresh JVM with no agent,"
            + " this agent and the OTel agent, in an order that rotates per round and workload."
            + " Throughput workloads: %.1f s warm-up, then %.1f s measured. Pipeline: %d warm-up"
            + " pipeline(s), then one timed pipeline of %,d `SET`s. Start-up: %d run(s) per agent"
            + " per round. Median and min-max over rounds.",
        o.rounds, o.warmupMs / 1000.0, o.measureMs / 1000.0, o.warmupPipelines,
        o.pipelineCommands, o.startupRuns));
    line("- Both agents export to the same local OTLP sink (http/protobuf, accepts and discards)"
        + " with the same `OTEL_*` environment: `OTEL_SERVICE_NAME=redis-benchmark`,"
        + " `OTEL_EXPORTER_OTLP_ENDPOINT=<sink>`, `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`,"
        + " `OTEL_METRIC_EXPORT_INTERVAL=10000`, `OTEL_RESOURCE_ATTRIBUTES=benchmark.agent=<none|"
        + "this|otel>`. The OTel agent also gets"
        + " `-Dotel.semconv-stability.opt-in=database` (so it records"
        + " `db.client.operation.duration`); all its instrumentations stay at their defaults"
        + " (Redis on, nothing disabled). This agent runs with all its defaults, and once more"
        + " with `-Dredis.resilience.telemetry.spans.enabled=false` (spans off: the metrics, log"
        + " records and resilience features stay), same jar.");
    line("");

    // ------------------------------------------------------------ main table
    line("## Throughput and latency");
    line("");
    line("| Workload | Unit | No agent: median (min-max) | This agent: median (min-max) | This"
        + " / none | OTel agent: median (min-max) | OTel / none | This, spans off: median (min-max)"
        + " | Spans off / none | Slowdown: this vs OTel |");
    line("|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for (Workload w : Workload.values()) {
      boolean tp = w.kind == Kind.THROUGHPUT;
      StringBuilder row = new StringBuilder("| ").append(w.label(o)).append(" | ")
          .append(tp ? "ops/s (higher is better)" : "s (lower is better)");
      for (Agent a : Agent.values()) {
        Stats s = value(w, a);
        row.append(" | ").append(range(s, tp));
        if (a != Agent.NONE) {
          row.append(" | ").append(ratioText(ratio(w, a), tp));
        }
      }
      double ours = slowdown(w, Agent.OURS);
      double otel = slowdown(w, Agent.OTEL);
      row.append(" | ").append(pct(ours)).append(" vs ").append(pct(otel)).append(" |");
      line(row.toString());
    }
    double ourStart = startupRow("Start-up, trivial main: JVM start to exit", startupMs);
    double otelStart =
        new Stats(startupMs.get(Agent.OTEL)).median - new Stats(startupMs.get(Agent.NONE)).median;
    startupRow("Start-up, trivial main: JVM start to main() (information)", startupMainMs);
    line("");
    line("Ratios are median(agent) / median(no agent): a throughput ratio for ops/s (below 1 is"
        + " slower), a time ratio for the pipeline (above 1 is slower). Slowdown = 1 - ratio for"
        + " throughput, ratio - 1 for times (negative: faster than no agent, i.e. noise).");
    line("");

    // ------------------------------------------------------------ spans delivered
    line("## Spans delivered");
    line("");
    line("Both agents queue spans in memory and drop them when the queue is full (default"
        + " `otel.bsp.max.queue.size` 2048), so an agent that drops is doing less work than one that"
        + " exports everything: throughput must be read next to this. Spans the sink received from"
        + " the workload JVM (after its exit, final export included) per command it ran, warm-up"
        + " included; the pipeline gives the count (this agent: one span per pipeline).");
    line("");
    line("| Workload | This agent: delivered / commands, median (min-max) | OTel agent |");
    line("|---|---:|---:|");
    for (Workload w : Workload.values()) {
      StringBuilder r = new StringBuilder("| ").append(w.label(o));
      for (Agent a : new Agent[] {Agent.OURS, Agent.OTEL}) {
        r.append(" | ");
        if (w.kind == Kind.THROUGHPUT) {
          Stats st = stats(w, a,
              x -> x.commandsRun > 0 ? 100.0 * x.spansDelivered / x.commandsRun : -1);
          r.append(st.median < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f%% (%.1f-%.1f%%)",
              st.median, st.min, st.max));
        } else {
          Stats st = stats(w, a, x -> x.spansDelivered);
          r.append(String.format(Locale.ROOT, "%,.0f spans (%,.0f-%,.0f)", st.median, st.min,
              st.max));
        }
      }
      line(r.append(" |").toString());
    }
    line("");

    // ------------------------------------------------------------ allocation and memory
    line("## Allocation, memory, size");
    line("");
    line("| Workload | Allocated B/op, no agent | this agent | OTel agent | this, spans off |"
        + " Incl. all threads (none / this / OTel / spans off) | Process CPU µs/op (none / this /"
        + " OTel / spans off) | Peak RSS MiB (none / this / OTel / spans off) |");
    line("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (Workload w : Workload.values()) {
      StringBuilder r = new StringBuilder("| ").append(w.label(o));
      for (Agent a : Agent.values()) {
        r.append(" | ").append(String.format(Locale.ROOT, "%,.0f",
            stats(w, a, s -> s.allocPerOp).median));
      }
      r.append(" | ");
      for (Agent a : Agent.values()) {
        r.append(a == Agent.NONE ? "" : " / ").append(String.format(Locale.ROOT, "%,.0f",
            stats(w, a, s -> s.allocAllPerOp).median));
      }
      r.append(" | ");
      for (Agent a : Agent.values()) {
        double cpu = stats(w, a, s -> s.cpuMicrosPerOp).median;
        r.append(a == Agent.NONE ? "" : " / ")
            .append(cpu < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f", cpu));
      }
      r.append(" | ");
      for (Agent a : Agent.values()) {
        r.append(a == Agent.NONE ? "" : " / ").append(String.format(Locale.ROOT, "%,.0f",
            stats(w, a, s -> s.peakRssKb / 1024.0).median));
      }
      line(r.append(" |").toString());
    }
    double[] maxRss = new double[Agent.values().length];
    for (Agent a : Agent.values()) {
      for (Workload w : Workload.values()) {
        maxRss[a.ordinal()] = Math.max(maxRss[a.ordinal()],
            stats(w, a, s -> s.peakRssKb / 1024.0).median);
      }
    }
    line(String.format(Locale.ROOT, "| **Peak RSS, largest median over the workloads** | | | | |"
        + " | | **%,.0f / %,.0f / %,.0f / %,.0f** |", maxRss[Agent.NONE.ordinal()],
        maxRss[Agent.OURS.ordinal()], maxRss[Agent.OTEL.ordinal()],
        maxRss[Agent.SPANS_OFF.ordinal()]));
    line("");
    long ourJar = size(o.agentJar);
    long otelJar = size(o.otelJar);
    line(String.format(Locale.ROOT, "Jar size: this agent %s, OTel agent %s.", mib(ourJar),
        mib(otelJar)));
    line("");
    line("Allocated B/op: `com.sun.management.ThreadMXBean#getThreadAllocatedBytes` over the"
        + " measured phase, summed over the workload's own threads and the client's I/O threads"
        + " (Lettuce's `lettuce-*` event loops, where Lettuce completes commands), divided by"
        + " commands; the agents' background threads (span/metric exporters) are not in it. 'Incl."
        + " all threads' adds every other Java thread alive at the end of the measured phase,"
        + " exporters included (threads that ended during the phase are missed; GC and JIT are"
        + " native and never counted). Process CPU µs/op: the workload JVM's CPU time"
        + " (`OperatingSystemMXBean#getProcessCpuTime`: every thread, JIT, GC and exporters"
        + " included, user and kernel) over the measured phase, per command; not measured for the"
        + " pipeline. On a small host it is steadier than throughput, which also depends on how"
        + " the CPUs are shared with redis-server. Peak RSS: `VmHWM` from `/proc/self/status` at the end of"
        + " each workload JVM, median over rounds; the JVM's default heap sizing applies, so it"
        + " mostly reflects how far the heap grew.");
    line("");

    // ------------------------------------------------------------ targets
    line("## Targets");
    line("");
    line("| Target | This agent | Met? | OTel agent (reference) |");
    line("|---|---:|---|---:|");
    for (Workload w : Workload.values()) {
      if (w.kind == Kind.THROUGHPUT) {
        double limit = w.sync ? 0.97 : 0.95;
        double r = ratio(w, Agent.OURS);
        target(String.format(Locale.ROOT, "%s throughput >= %.2fx no agent", w.label(o), limit),
            ratioText(r, true), r >= limit, ratioText(ratio(w, Agent.OTEL), true));
      } else {
        double r = ratio(w, Agent.OURS);
        target(w.label(o) + " time <= 1.10x no agent", ratioText(r, false), r <= 1.10,
            ratioText(ratio(w, Agent.OTEL), false));
      }
    }
    for (Workload w : Workload.values()) {
      double r = ratio(w, Agent.SPANS_OFF);
      if (w.kind == Kind.THROUGHPUT) {
        target("Spans off: " + w.label(o) + " throughput >= 0.98x no agent", ratioText(r, true),
            r >= 0.98, "-");
      } else {
        target("Spans off: " + w.label(o) + " time <= 1.02x no agent", ratioText(r, false),
            r <= 1.02, "-");
      }
      double none = stats(w, Agent.NONE, x -> x.allocPerOp).median;
      double off = stats(w, Agent.SPANS_OFF, x -> x.allocPerOp).median;
      target("Spans off: " + w.label(o) + " allocation <= no agent + 16 B/op",
          String.format(Locale.ROOT, "%+,.0f B/op", off - none), off - none <= 16, "-");
    }
    target("Start-up <= +150 ms over no agent", String.format(Locale.ROOT, "%+,.0f ms", ourStart),
        ourStart <= STARTUP_LIMIT_MS, String.format(Locale.ROOT, "%+,.0f ms", otelStart));
    target("Jar <= 8 MB (8 MiB = 8,388,608 bytes)", mib(ourJar), ourJar <= JAR_LIMIT_BYTES,
        mib(otelJar));
    for (Workload w : Workload.values()) {
      double ours = slowdown(w, Agent.OURS);
      double otel = slowdown(w, Agent.OTEL);
      target("Our slowdown <= half of OTel's: " + w.label(o),
          pct(ours) + " vs " + pct(otel) + " (half: " + pct(otel / 2) + ")",
          halfOrLess(ours, otel), pct(otel));
    }
    line("");
    if (o.quick) {
      line("(QUICK mode: the met / not met column above is computed the same way but means"
          + " nothing at these durations.)");
      line("");
    }

    // ------------------------------------------------------------ notes
    line("## Notes");
    line("");
    if (o.quick) {
      line("- Instrumentation check (QUICK mode: what arrived at the sink during the workload runs;"
          + " span queues drop spans under load, so counts are not per command; duration points"
          + " are cumulative):");
    } else {
      line("- Instrumentation check (a separate JVM per agent, 100 Jedis + 100 Lettuce commands,"
          + " a receiver that keeps what it gets):");
    }
    for (Map.Entry<Agent, Check> e : checks.entrySet()) {
      if (e.getKey() == Agent.NONE) {
        continue;
      }
      Check c = e.getValue();
      line(String.format(Locale.ROOT, "  - %s: %d Jedis spans, %d Lettuce spans, %d other spans;"
              + " `db.client.operation.duration` count %.0f; %d metric names exported"
              + " (%s); span scopes: %s",
          e.getKey().label, c.jedisSpans, c.lettuceSpans, c.otherSpans, c.durationCount,
          c.metricNames.size(), abbreviate(String.join(", ", c.metricNames), 400),
          String.join(", ", c.scopes)));
    }
    line(String.format(Locale.ROOT, "- Noise: the spread (max-min)/median of the no-agent runs"
        + " is %s; differences smaller than that are not meaningful. With %s cores,"
        + " redis-server, the benchmarked JVM (with its JIT/GC threads and the agent's exporter"
        + " threads) and the driver's OTLP sink share the CPUs.",
        o.rounds > 1 ? spreads() : "not known with 1 round", m.get("cores")));
    line(String.format(Locale.ROOT, "- CPU used by other processes (all but the driver, the"
        + " forked JVM, redis-server and kernel threads; from `/proc/<pid>/stat`) as a share of all"
        + " CPUs, per run: median %.1f%%,"
        + " max %.1f%%; %d of %d runs above %.0f%%; %.1f%% in the 2 s before the first run.",
        100 * foreignStats.median, 100 * foreignStats.max, busyRuns, foreign.size(),
        100 * BenchmarkDriver.FOREIGN_CPU_WARNING, 100 * idleCheckForeignCpu));
    if (!o.quick) {
      line(String.format(Locale.ROOT, "- Before each run the driver waits while other processes"
          + " use more than %.0f%% of the CPUs (waited %.0f s in all), and repeats a run once when"
          + " they did during it, keeping the less disturbed one (%d run(s) repeated).",
          100 * BenchmarkDriver.FOREIGN_CPU_WARNING, waitedSeconds, repeats));
    }
    line("- Span export: both agents batch spans with the same `OTEL_BSP_*` defaults (queue 2048,"
        + " batch 512, 5 s delay), the OTel agent through the SDK's batch span processor, this"
        + " agent through its own queue with the same limits, which sends a batch as soon as it is"
        + " full and encodes it itself (see the README). A span that finds the queue full is"
        + " dropped; at tens of thousands of commands per second both agents drop part of their"
        + " spans, so the cost measured is creating every span and recording every metric, plus"
        + " encoding and sending the spans each agent kept.");
    line("- Start-up is the wall-clock time of a whole JVM running a main that prints one line:"
        + " agent premain, class loading/transformation, SDK set-up and the agents' shutdown"
        + " (final export to the sink) included.");
    line("- The OTel agent's slowdown includes all of its default instrumentations (e.g. its"
        + " executor and Netty instrumentation under Lettuce, JVM runtime metrics), since that is"
        + " what a user would run; nothing was disabled.");
    if (!o.quick) {
      double phases = 0;
      for (Workload w : Workload.values()) {
        if (w.kind == Kind.THROUGHPUT) {
          phases += o.rounds * Agent.values().length * (o.warmupMs + o.measureMs) / 1000.0;
        }
      }
      line(String.format(Locale.ROOT, "- Time budget: this run took %.1f min, of which %.0f s"
              + " were the throughput workloads' warm-up and measured phases; the rest is fixed"
              + " cost per JVM (start-up: the OTel agent alone needs %.1f s per JVM here, see"
              + " above; connecting; the agents transforming the client classes on first use)."
              + " The warm-up and measured phases are already short (%.0f s + %.0f s) to stay"
              + " near the issue's 10 minutes; `--warmup-seconds` / `--measure-seconds` /"
              + " `--rounds` give steadier numbers at the cost of time.",
          elapsedSeconds / 60, phases, new Stats(startupMs.get(Agent.OTEL)).median / 1000,
          o.warmupMs / 1000.0, o.measureMs / 1000.0));
    }
    line("- Reproduce: `benchmarks/run.sh` (full, writes this file) or `benchmarks/run.sh --quick`"
        + " (smoke run, writes `benchmarks/target/quick.md`). Raw samples: the `.raw` file next to"
        + " this one (not committed).");
    return md.toString();
  }

  /** A table row for start-up times; returns this agent's median minus no agent's. */
  private double startupRow(String label, Map<Agent, List<Double>> ms) {
    Stats none = new Stats(ms.get(Agent.NONE));
    StringBuilder row = new StringBuilder("| ").append(label).append(" | ms (lower is better)");
    double[] delta = new double[Agent.values().length];
    for (Agent a : Agent.values()) {
      if (a == Agent.SPANS_OFF) {
        row.append(" | same jar | -"); // start-up is not measured again
        continue;
      }
      Stats s = new Stats(ms.get(a));
      delta[a.ordinal()] = s.median - none.median;
      row.append(" | ").append(String.format(Locale.ROOT, "%,.0f (%,.0f-%,.0f)", s.median,
          s.min, s.max));
      if (a != Agent.NONE) {
        row.append(" | ").append(String.format(Locale.ROOT, "%+,.0f ms", delta[a.ordinal()]));
      }
    }
    row.append(String.format(Locale.ROOT, " | %+,.0f ms vs %+,.0f ms |",
        delta[Agent.OURS.ordinal()], delta[Agent.OTEL.ordinal()]));
    line(row.toString());
    return delta[Agent.OURS.ordinal()];
  }

  private void target(String what, String ours, boolean met, String otel) {
    line("| " + what + " | " + ours + " | " + (met ? "met" : "**not met**") + " | " + otel
        + " |");
  }

  private String spreads() {
    List<String> out = new ArrayList<>();
    for (Workload w : Workload.values()) {
      Stats s = value(w, Agent.NONE);
      out.add(String.format(Locale.ROOT, "%s %.1f%%", w.id, 100 * (s.max - s.min) / s.median));
    }
    Stats s = new Stats(startupMs.get(Agent.NONE));
    out.add(String.format(Locale.ROOT, "start-up %.1f%%", 100 * (s.max - s.min) / s.median));
    return String.join(", ", out);
  }

  private static String range(Stats s, boolean throughput) {
    if (throughput) {
      return String.format(Locale.ROOT, "%,.0f (%,.0f-%,.0f)", s.median, s.min, s.max);
    }
    return String.format(Locale.ROOT, "%.3f (%.3f-%.3f)", s.median, s.min, s.max);
  }

  private static String ratioText(double r, boolean throughput) {
    return String.format(Locale.ROOT, "%.3fx%s", r, throughput ? "" : " time");
  }

  private static String pct(double v) {
    return String.format(Locale.ROOT, "%+.1f%%", v * 100);
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.2f MiB (%,d bytes)", bytes / 1024.0 / 1024.0, bytes);
  }

  private static String abbreviate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + " ...";
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return -1;
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p).trim();
    } catch (IOException e) {
      return "";
    }
  }

  private void line(String s) {
    md.append(s).append('\n');
  }
}
