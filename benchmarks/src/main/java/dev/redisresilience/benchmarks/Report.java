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
  private final RoundTrip loopbackRtt;
  private final RoundTrip netemRtt;
  private final RoundTrip netemRttAfter;
  private final StringBuilder md = new StringBuilder();

  Report(Options o, List<Sample> samples, Map<Agent, List<Double>> startupMs,
      Map<Agent, List<Double>> startupMainMs, Map<Agent, Check> checks, double elapsedSeconds,
      List<Double> startupForeignCpu, double idleCheckForeignCpu, int repeats,
      double waitedSeconds, RoundTrip loopbackRtt, RoundTrip netemRtt, RoundTrip netemRttAfter) {
    this.loopbackRtt = loopbackRtt;
    this.netemRtt = netemRtt;
    this.netemRttAfter = netemRttAfter;
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

  private List<Sample> of(boolean netem, Workload w, Agent a) {
    List<Sample> out = new ArrayList<>();
    for (Sample s : samples) {
      if (s.netem == netem && s.workload == w && s.agent == a) {
        out.add(s);
      }
    }
    return out;
  }

  private Stats stats(boolean netem, Workload w, Agent a, ToDoubleFunction<Sample> f) {
    List<Double> v = new ArrayList<>();
    for (Sample s : of(netem, w, a)) {
      v.add(f.applyAsDouble(s));
    }
    return new Stats(v);
  }

  private Stats stats(Workload w, Agent a, ToDoubleFunction<Sample> f) {
    return stats(false, w, a, f);
  }

  private Stats value(boolean netem, Workload w, Agent a) {
    return stats(netem, w, a, s -> s.value);
  }

  /** median(agent) / median(no agent): throughput ratio, or time ratio for the pipeline. */
  private double ratio(boolean netem, Workload w, Agent a) {
    return value(netem, w, a).median / value(netem, w, Agent.NONE).median;
  }

  /** How much worse than no agent: 1 - ratio for throughput, ratio - 1 for time. */
  private double slowdown(boolean netem, Workload w, Agent a) {
    double r = ratio(netem, w, a);
    return w.kind == Kind.THROUGHPUT ? 1 - r : r - 1;
  }

  /** Met when ours is at most half of OTel's; no slowdown at all counts as met. */
  static boolean halfOrLess(double ours, double otel) {
    return ours <= 0 || ours <= otel / 2;
  }

  private boolean netemRan() {
    for (Sample s : samples) {
      if (s.netem) {
        return true;
      }
    }
    return false;
  }

  private static String columns(Agent[] agents) {
    List<String> c = new ArrayList<>();
    for (Agent a : agents) {
      c.add(a == Agent.NONE ? "none" : a.column.replace("this, ", ""));
    }
    return String.join(" / ", c);
  }

  private boolean steadyState() {
    return o.out.getFileName().toString().contains("steady");
  }

  String markdown() {
    Map<String, String> m = BenchmarkDriver.machine();
    String date = ZonedDateTime.now(ZoneOffset.UTC).format(
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'", Locale.ROOT));
    String appCp = o.classes + java.io.File.pathSeparator + read(o.appClasspathFile);
    String ourVersion = BenchmarkDriver.jarVersion(o.agentJar);
    String otelVersion = BenchmarkDriver.jarVersion(o.otelJar);
    boolean netem = netemRan();
    Agent[] all = Agent.values();
    Workload[] workloads = Workload.values();

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
    line("- Date: " + date + " (run took " + String.format(Locale.ROOT, "%.0f s = %.1f min",
        elapsedSeconds, elapsedSeconds / 60) + ")");
    line("- Machine: " + m.get("cores") + " cores (" + m.get("cpu") + "), " + m.get("memory")
        + " RAM, " + m.get("os") + ", Linux " + m.get("kernel"));
    line("- JDK: " + m.get("jdk") + ", default JVM flags (no -Xmx, default GC)");
    line("- Versions: redis-resilience-agent " + ourVersion + " (built from " + o.agentBuild
        + ", jar sha256 " + BenchmarkDriver.sha256(o.agentJar) + "), opentelemetry-javaagent "
        + otelVersion + ", Jedis " + BenchmarkDriver.versionOnClasspath(appCp, "jedis")
        + ", Lettuce " + BenchmarkDriver.versionOnClasspath(appCp, "lettuce-core")
        + ", redis-server " + BenchmarkDriver.redisVersion() + " (same machine)");
    line(String.format(Locale.ROOT,
        "- Method: %d round(s); in each round every workload runs in a fresh JVM once per"
            + " column (%s), in an order that rotates per round and workload."
            + " Throughput workloads: %.1f s warm-up, then %.1f s measured. Pipeline: %d warm-up"
            + " pipeline(s), then %d timed pipelines of %,d `SET`s, their median time. Start-up:"
            + " %d run(s) per agent per round. Median and min-max over rounds.%s",
        o.rounds, columns(all), o.warmupMs / 1000.0, o.measureMs / 1000.0, o.warmupPipelines,
        BenchmarkApp.TIMED_PIPELINES, o.pipelineCommands, o.startupRuns, netem ? String.format(Locale.ROOT, " Then %d round(s)"
            + " of the production-like regime (below).", o.netemRounds) : ""));
    line("- Columns: **none**; **this, defaults** (every setting at its default: every span"
        + " exported); **this, spans off** (`-Dredis.resilience.telemetry.spans.enabled=false`:"
        + " metrics exact, log records and resilience stay); **this, interesting spans**"
        + " (`-Dredis.resilience.telemetry.spans.sampling=interesting`, ratio and slow threshold at"
        + " their defaults: errors, retries, timeouts and slow operations kept, the rest at 1 %;"
        + " an agent build that does not know the setting ignores it and exports every span, see"
        + " 'Spans delivered'); **OTel agent** (all its default instrumentations, plus"
        + " `-Dotel.semconv-stability.opt-in=database` so that it records"
        + " `db.client.operation.duration` too: the same telemetry as this agent's defaults,"
        + " spans + the duration metric). The three 'this' columns are the same jar.");
    line("- Every JVM exports to the same local OTLP sink (http/protobuf, accepts and discards)"
        + " with the same `OTEL_*` environment: `OTEL_SERVICE_NAME=redis-benchmark`,"
        + " `OTEL_EXPORTER_OTLP_ENDPOINT=<sink>`, `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`,"
        + " `OTEL_METRIC_EXPORT_INTERVAL=10000`, `OTEL_RESOURCE_ATTRIBUTES=benchmark.agent=<column"
        + " id>`.");
    line("");

    // ------------------------------------------------------------ main table
    line("## Throughput and latency: redis-server on loopback" + (loopbackRtt == null ? ""
        : String.format(Locale.ROOT, " (round trip %.0f µs median)", loopbackRtt.medianMicros)));
    line("");
    throughputTable(false, all, workloads);
    double ourStart = startupRow("Start-up, trivial main: JVM start to exit", startupMs);
    double otelStart =
        new Stats(startupMs.get(Agent.OTEL)).median - new Stats(startupMs.get(Agent.NONE)).median;
    startupRow("Start-up, trivial main: JVM start to main() (information)", startupMainMs);
    line("");
    line("Ratios are median(column) / median(no agent): a throughput ratio for ops/s (below 1 is"
        + " slower), a time ratio for the pipeline (above 1 is slower). Slowdown = 1 - ratio for"
        + " throughput, ratio - 1 for times (negative: faster than no agent, i.e. noise).");
    line("");
    resourceTable(false, all, workloads);

    // ------------------------------------------------------------ production-like regime
    line("## Production-like round trip: redis-server in a network namespace behind netem");
    line("");
    if (netem) {
      if (o.netemSetup.contains("NO netem delay")) {
        line("> **NO DELAY: this run used the network namespace without netem (a test of the"
            + " plumbing only). The round trip below is loopback-like; this is NOT the"
            + " production-like regime.**");
        line("");
      }
      line("The same benchmark JVMs (root network namespace) against a redis-server in its own"
          + " network namespace, reached over a veth pair with `tc netem` delay: " + o.netemSetup
          + ". Round trip as a Java client sees it (PING from the driver, one at a time): "
          + netemRtt + " before the runs, " + netemRttAfter + " after them"
          + (loopbackRtt == null ? "" : "; loopback for comparison: " + loopbackRtt) + ".");
      line("");
      line(String.format(Locale.ROOT, "Columns %s (the issue's comparison), workloads %s (the"
              + " pipeline is bandwidth-bound and left out), %d round(s), the same phases as"
              + " above.", columns(Agent.NETEM), workloadIds(o.netemWorkloads),
          o.netemRounds));
      line("");
      throughputTable(true, Agent.NETEM, o.netemWorkloads);
      line("");
      resourceTable(true, Agent.NETEM, o.netemWorkloads);
    } else if (o.netemUnavailable != null) {
      line("**Not run:** " + o.netemUnavailable);
      line("");
    } else {
      line("Not run (`--no-netem`).");
      line("");
    }

    // ------------------------------------------------------------ spans delivered
    line("## Spans delivered and dropped");
    line("");
    line("Spans the sink received from each workload JVM (after its exit, final export included)"
        + " per command it ran, warm-up included (the pipeline: the count; this agent makes one"
        + " span per pipeline), and spans dropped: this agent's own count (the sum of its"
        + " `N span(s) dropped` log lines; it logs the remainder at exit); for the OTel agent"
        + " (whose SDK does not log drops) commands run - spans delivered, one span per command."
        + " An agent that drops does less work, so throughput must be read next to this."
        + " Median (min-max) over rounds; dropped: median, and the largest in brackets.");
    line("");
    spansTable(false, all, workloads, "loopback");
    if (netem) {
      spansTable(true, Agent.NETEM, o.netemWorkloads, "netem");
    }
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
        + " the CPUs are shared with redis-server. Peak RSS: `VmHWM` from `/proc/self/status` at"
        + " the end of each workload JVM, median over rounds; the JVM's default heap sizing"
        + " applies, so it mostly reflects how far the heap grew.");
    line("");

    // ------------------------------------------------------------ targets
    line("## Targets (issue 12), from this run");
    line("");
    line("| Target | Value | Met? | Reference |");
    line("|---|---:|---|---:|");
    for (boolean n : netem ? new boolean[] {false, true} : new boolean[] {false}) {
      String regime = n ? "netem" : "loopback";
      for (Workload w : n ? o.netemWorkloads : workloads) {
        double r = ratio(n, w, Agent.SPANS_OFF);
        if (w.kind == Kind.THROUGHPUT) {
          target("Spans off, " + regime + ": " + w.label(o) + " throughput >= 0.98x no agent",
              ratioText(r, true), r >= 0.98, "OTel " + ratioText(ratio(n, w, Agent.OTEL), true));
        } else {
          target("Spans off, " + regime + ": " + w.label(o) + " time <= 1.02x no agent",
              ratioText(r, false), r <= 1.02, "OTel " + ratioText(ratio(n, w, Agent.OTEL), false));
        }
        double none = stats(n, w, Agent.NONE, x -> x.allocPerOp).median;
        double off = stats(n, w, Agent.SPANS_OFF, x -> x.allocPerOp).median;
        target("Spans off, " + regime + ": " + w.label(o) + " allocation <= no agent + 16 B/op",
            String.format(Locale.ROOT, "%+,.0f B/op", off - none), off - none <= 16,
            String.format(Locale.ROOT, "no agent %,.0f B/op", none));
      }
    }
    for (boolean n : netem ? new boolean[] {false, true} : new boolean[] {false}) {
      String regime = (n ? "netem" : "loopback") + (steadyState() ? ", steady-state run"
          : ", short run");
      for (Workload w : n ? o.netemWorkloads : workloads) {
        double ours = slowdown(n, w, Agent.OURS);
        double otel = slowdown(n, w, Agent.OTEL);
        target("Defaults, " + regime + ": slowdown <= half of OTel's: " + w.label(o),
            pct(ours) + " (half of OTel's: " + pct(otel / 2) + ")", halfOrLess(ours, otel),
            "OTel " + pct(otel));
      }
    }
    for (boolean n : netem ? new boolean[] {false, true} : new boolean[] {false}) {
      String regime = n ? "netem" : "loopback";
      for (Workload w : n ? o.netemWorkloads : workloads) {
        double none = stats(n, w, Agent.NONE, x -> x.appCpuMicrosPerOp).median;
        double ours = stats(n, w, Agent.OURS, x -> x.appCpuMicrosPerOp).median;
        if (none < 0 || ours < 0) {
          continue; // not measured (the pipeline)
        }
        double otel = stats(n, w, Agent.OTEL, x -> x.appCpuMicrosPerOp).median;
        target("Defaults, " + regime + ": application-thread cost <= 0.5 µs per command: "
                + w.label(o),
            String.format(Locale.ROOT, "%+.2f µs", ours - none), ours - none <= 0.5,
            String.format(Locale.ROOT, "OTel %+.2f µs", otel - none));
      }
    }
    for (Agent a : new Agent[] {Agent.OURS, Agent.SPANS_OFF, Agent.INTERESTING, Agent.OTEL}) {
      double worst = Double.NEGATIVE_INFINITY;
      String where = "";
      for (boolean n : netem ? new boolean[] {false, true} : new boolean[] {false}) {
        for (Workload w : n ? o.netemWorkloads : workloads) {
          if (of(n, w, a).isEmpty()) {
            continue;
          }
          double d = (stats(n, w, a, s -> s.peakRssKb).median
              - stats(n, w, Agent.NONE, s -> s.peakRssKb).median) / 1024.0;
          if (d > worst) {
            worst = d;
            where = w.id + (n ? ", netem" : "");
          }
        }
      }
      String value = String.format(Locale.ROOT, "%+,.0f MiB (%s)", worst, where);
      if (a == Agent.OTEL) {
        target("Peak RSS, OTel agent (reference): largest median over no agent's", value, true,
            "-");
      } else {
        target("Peak RSS <= no agent + 40 MiB on every workload (" + a.column + ")", value,
            worst <= 40, "-");
      }
    }
    target("Jar <= 8 MB (8 MiB = 8,388,608 bytes)", mib(ourJar), ourJar <= JAR_LIMIT_BYTES,
        "OTel " + mib(otelJar));
    for (Agent a : new Agent[] {Agent.OURS, Agent.INTERESTING}) {
      long dropped = 0;
      long known = 0;
      for (Sample s : samples) {
        if (s.agent == a && s.spansDropped >= 0) {
          dropped += s.spansDropped;
          known++;
        }
      }
      long otelNotDelivered = 0;
      for (Sample s : samples) {
        if (s.agent == Agent.OTEL && s.spansDropped > 0) {
          otelNotDelivered += s.spansDropped;
        }
      }
      target("Spans dropped: 0 (" + a.column + ", all " + known + " runs)",
          String.format(Locale.ROOT, "%,d", dropped), known > 0 && dropped == 0,
          String.format(Locale.ROOT, "OTel: %,d not delivered", otelNotDelivered));
    }
    line("");
    line("Application-thread cost: the CPU time (ThreadMXBean, user + kernel) of the workload's"
        + " threads and the client's I/O threads (Lettuce's `lettuce-*` event loops) over the"
        + " measured phase per command, agent minus no agent: what the agent adds where the"
        + " application runs, without its exporter threads, JIT and GC. Export CPU per span and"
        + " drops at 60k spans/s are measured by `SpanExportCpuProbe` (agent/core tests; see the"
        + " README). The defaults' slowdown is to be met " + (steadyState()
        ? "in this steady-state run and in the short run (`results/latest.md`)"
        : "in this short run and in the steady-state run: `results/steady-state.md`, made by the"
            + " same code with long phases (`benchmarks/run.sh --rounds 2 --warmup-seconds 15"
            + " --measure-seconds 5 --no-netem --out \"$PWD/benchmarks/results/steady-state.md\"`)"
            + ", which has the same table") + ".");
    line("");
    if (o.quick) {
      line("(QUICK mode: the met / not met column is computed the same way but means nothing at"
          + " these durations.)");
      line("");
    }

    line("### Round-1 targets (for comparison)");
    line("");
    line("| Target | This agent, defaults | Met? | OTel agent (reference) |");
    line("|---|---:|---|---:|");
    for (Workload w : workloads) {
      if (w.kind == Kind.THROUGHPUT) {
        double limit = w.sync ? 0.97 : 0.95;
        double r = ratio(false, w, Agent.OURS);
        target(String.format(Locale.ROOT, "%s throughput >= %.2fx no agent", w.label(o), limit),
            ratioText(r, true), r >= limit, ratioText(ratio(false, w, Agent.OTEL), true));
      } else {
        double r = ratio(false, w, Agent.OURS);
        target(w.label(o) + " time <= 1.10x no agent", ratioText(r, false), r <= 1.10,
            ratioText(ratio(false, w, Agent.OTEL), false));
      }
    }
    target("Start-up <= +150 ms over no agent", String.format(Locale.ROOT, "%+,.0f ms", ourStart),
        ourStart <= STARTUP_LIMIT_MS, String.format(Locale.ROOT, "%+,.0f ms", otelStart));
    line("");

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
        + " agent through its own queue with the same limits (see the README). A span that finds"
        + " the queue full is dropped; see 'Spans delivered and dropped'.");
    line("- Start-up is the wall-clock time of a whole JVM running a main that prints one line:"
        + " agent premain, class loading/transformation, SDK set-up and the agents' shutdown"
        + " (final export to the sink) included. Measured for none / this / OTel only (the other"
        + " two columns are the same jar and premain).");
    line("- The OTel agent's slowdown includes all of its default instrumentations (e.g. its"
        + " executor and Netty instrumentation under Lettuce, JVM runtime metrics), since that is"
        + " what a user would run; nothing was disabled.");
    if (!o.quick) {
      double phases = 0;
      for (Workload w : workloads) {
        if (w.kind == Kind.THROUGHPUT) {
          phases += o.rounds * all.length * (o.warmupMs + o.measureMs) / 1000.0;
        }
      }
      if (netem) {
        phases += o.netemRounds * Agent.NETEM.length * o.netemWorkloads.length
            * (o.warmupMs + o.measureMs) / 1000.0;
      }
      line(String.format(Locale.ROOT, "- Time budget: this run took %.1f min, of which %.0f s"
              + " were the throughput workloads' warm-up and measured phases; the rest is fixed"
              + " cost per JVM (start-up: the OTel agent alone needs %.1f s per JVM here, see"
              + " above; connecting; the agents transforming the client classes on first use)."
              + " Phases of %.1f s + %.1f s and %d + %d rounds keep the run near 20 minutes on"
              + " 2 cores; `--warmup-seconds` / `--measure-seconds` / `--rounds` /"
              + " `--netem-rounds` give steadier numbers at the cost of time.",
          elapsedSeconds / 60, phases, new Stats(startupMs.get(Agent.OTEL)).median / 1000,
          o.warmupMs / 1000.0, o.measureMs / 1000.0, o.rounds, netem ? o.netemRounds : 0));
    }
    line("- Reproduce: `benchmarks/run.sh` (full, writes this file) or `benchmarks/run.sh --quick`"
        + " (smoke run, writes `benchmarks/target/quick.md`). Raw samples: the `.raw` file next to"
        + " this one (not committed).");
    return md.toString();
  }

  private static String workloadIds(Workload[] ws) {
    List<String> ids = new ArrayList<>();
    for (Workload w : ws) {
      ids.add("`" + w.id + "`");
    }
    return String.join(", ", ids);
  }

  /** Median (min-max) per column, the ratio to no agent, and this agent's vs OTel's slowdown. */
  private void throughputTable(boolean netem, Agent[] agents, Workload[] ws) {
    StringBuilder head = new StringBuilder("| Workload | Unit | No agent: median (min-max)");
    StringBuilder sep = new StringBuilder("|---|---|---:");
    for (Agent a : agents) {
      if (a != Agent.NONE) {
        head.append(" | ").append(a.column).append(": median (min-max) | / none");
        sep.append("|---:|---:");
      }
    }
    line(head.append(" | Slowdown: this, defaults vs OTel |").toString());
    line(sep.append("|---|").toString());
    for (Workload w : ws) {
      boolean tp = w.kind == Kind.THROUGHPUT;
      StringBuilder row = new StringBuilder("| ").append(w.label(o)).append(" | ")
          .append(tp ? "ops/s (higher is better)" : "s (lower is better)");
      for (Agent a : agents) {
        row.append(" | ").append(range(value(netem, w, a), tp));
        if (a != Agent.NONE) {
          row.append(" | ").append(ratioText(ratio(netem, w, a), tp));
        }
      }
      row.append(" | ").append(pct(slowdown(netem, w, Agent.OURS))).append(" vs ")
          .append(pct(slowdown(netem, w, Agent.OTEL))).append(" |");
      line(row.toString());
    }
  }

  /** B/op per column, then incl. all threads, CPU µs/op and peak RSS as 'a / b / ...' cells. */
  private void resourceTable(boolean netem, Agent[] agents, Workload[] ws) {
    String cols = columns(agents);
    StringBuilder head = new StringBuilder("| Workload");
    StringBuilder sep = new StringBuilder("|---");
    for (Agent a : agents) {
      head.append(" | B/op, ").append(a == Agent.NONE ? "no agent" : a.column);
      sep.append("|---:");
    }
    head.append(" | B/op incl. all threads (").append(cols).append(") | Process CPU µs/op (")
        .append(cols).append(") | App + client threads CPU µs/op (").append(cols)
        .append(") | Peak RSS MiB (").append(cols).append(") |");
    line(head.toString());
    line(sep.append("|---:|---:|---:|---:|").toString());
    for (Workload w : ws) {
      StringBuilder r = new StringBuilder("| ").append(w.label(o));
      for (Agent a : agents) {
        r.append(" | ").append(String.format(Locale.ROOT, "%,.0f",
            stats(netem, w, a, s -> s.allocPerOp).median));
      }
      r.append(" | ").append(joined(netem, w, agents, s -> s.allocAllPerOp, "%,.0f"));
      r.append(" | ").append(joined(netem, w, agents, s -> s.cpuMicrosPerOp, "%.1f"));
      r.append(" | ").append(joined(netem, w, agents, s -> s.appCpuMicrosPerOp, "%.2f"));
      r.append(" | ").append(joined(netem, w, agents, s -> s.peakRssKb / 1024.0, "%,.0f"));
      line(r.append(" |").toString());
    }
    StringBuilder max = new StringBuilder("| **Peak RSS, largest median over the workloads**");
    for (int i = 0; i < agents.length + 2; i++) {
      max.append(" |");
    }
    List<String> v = new ArrayList<>();
    for (Agent a : agents) {
      double mx = 0;
      for (Workload w : ws) {
        mx = Math.max(mx, stats(netem, w, a, s -> s.peakRssKb / 1024.0).median);
      }
      v.add(String.format(Locale.ROOT, "%,.0f", mx));
    }
    line(max.append(" **").append(String.join(" / ", v)).append("** |").toString());
    line("");
  }

  private String joined(boolean netem, Workload w, Agent[] agents, ToDoubleFunction<Sample> f,
      String format) {
    List<String> out = new ArrayList<>();
    for (Agent a : agents) {
      double v = stats(netem, w, a, f).median;
      out.add(v < 0 ? "n/a" : String.format(Locale.ROOT, format, v));
    }
    return String.join(" / ", out);
  }

  private void spansTable(boolean netem, Agent[] agents, Workload[] ws, String regime) {
    StringBuilder head = new StringBuilder("| Workload (" + regime + ")");
    StringBuilder sep = new StringBuilder("|---");
    for (Agent a : agents) {
      if (a != Agent.NONE) {
        head.append(" | ").append(a.column).append(": delivered / commands, dropped");
        sep.append("|---:");
      }
    }
    line(head.append(" |").toString());
    line(sep.append("|").toString());
    for (Workload w : ws) {
      StringBuilder r = new StringBuilder("| ").append(w.label(o));
      for (Agent a : agents) {
        if (a == Agent.NONE) {
          continue;
        }
        r.append(" | ");
        if (w.kind == Kind.THROUGHPUT) {
          Stats st = stats(netem, w, a,
              x -> x.commandsRun > 0 ? 100.0 * x.spansDelivered / x.commandsRun : -1);
          r.append(st.median < 0 ? "n/a" : String.format(Locale.ROOT, "%.1f%% (%.1f-%.1f%%)",
              st.median, st.min, st.max));
        } else {
          Stats st = stats(netem, w, a, x -> x.spansDelivered);
          r.append(String.format(Locale.ROOT, "%,.0f spans (%,.0f-%,.0f)", st.median, st.min,
              st.max));
        }
        Stats d = stats(netem, w, a, x -> x.spansDropped);
        r.append(d.median < 0 ? ", dropped n/a" : String.format(Locale.ROOT,
            ", dropped %,.0f (%,.0f)", d.median, d.max));
      }
      line(r.append(" |").toString());
    }
    line("");
  }

  /** A table row for start-up times; returns this agent's median minus no agent's. */
  private double startupRow(String label, Map<Agent, List<Double>> ms) {
    Stats none = new Stats(ms.get(Agent.NONE));
    StringBuilder row = new StringBuilder("| ").append(label).append(" | ms (lower is better)");
    double[] delta = new double[Agent.values().length];
    for (Agent a : Agent.values()) {
      if (a == Agent.SPANS_OFF || a == Agent.INTERESTING) {
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
      Stats s = value(false, w, Agent.NONE);
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
