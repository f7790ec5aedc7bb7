package dev.redisresilience.benchmarks;

import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.OtlpReceiver;
import dev.redisresilience.harness.ReceivedMetric;
import dev.redisresilience.harness.ReceivedSpan;
import dev.redisresilience.harness.RedisServer;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Orchestrates the overhead benchmark: one redis-server on loopback, one OTLP sink that accepts
 * and discards, and every workload in its own JVM with no agent, this agent and the
 * OpenTelemetry Java agent, alternating, for several rounds. Writes a markdown report.
 *
 * <p>Args (run.sh passes the paths): {@code --agent-jar P --otel-jar P --classes DIR
 * --app-classpath-file F --out FILE.md [--quick] [--rounds N] [--warmup-seconds S]
 * [--measure-seconds S] [--pipeline-commands N] [--warmup-pipelines N] [--startup-runs N]}
 */
public final class BenchmarkDriver {

  /** Who is attached. */
  enum Agent {
    NONE("none", "no agent", "none"),
    OURS("this", "redis-resilience-agent", "this, defaults"),
    /** This agent with {@code telemetry.spans.enabled=false}: metrics (exact) and resilience only. */
    SPANS_OFF("this-spans-off", "redis-resilience-agent, spans off", "this, spans off"),
    /**
     * This agent with {@code telemetry.spans.sampling=interesting}: errors, retries, timeouts and
     * slow operations always kept, the rest at the default ratio (0.01); metrics exact.
     */
    INTERESTING("this-interesting", "redis-resilience-agent, interesting spans",
        "this, interesting spans"),
    OTEL("otel", "OTel Java agent", "OTel agent");

    final String id;
    final String label;
    /** Column header. */
    final String column;

    Agent(String id, String label, String column) {
      this.id = id;
      this.label = label;
      this.column = column;
    }

    /** One of this agent's variants (same jar). */
    boolean ours() {
      return this == OURS || this == SPANS_OFF || this == INTERESTING;
    }

    /** The agents of the production-like regime (netem): the comparison. */
    static final Agent[] NETEM = {NONE, OURS, SPANS_OFF, OTEL};
  }

  /** What a workload reports: commands per second (higher is better) or seconds (lower). */
  enum Kind {
    THROUGHPUT,
    TIME
  }

  enum Workload {
    JEDIS_SYNC("jedis-sync", "Jedis sync, 1 thread (SET/GET)", Kind.THROUGHPUT, true),
    JEDIS_POOL("jedis-pool", "Jedis, 8 threads on a JedisPool (SET/GET)", Kind.THROUGHPUT, true),
    JEDIS_PIPELINE("jedis-pipeline", "Jedis, one %s-command pipeline (SET)", Kind.TIME, false),
    LETTUCE_SYNC("lettuce-sync", "Lettuce sync, 1 thread (SET/GET)", Kind.THROUGHPUT, true),
    LETTUCE_ASYNC("lettuce-async", "Lettuce async, batches of 100 (SET/GET)", Kind.THROUGHPUT,
        false);

    final String id;
    final String label;
    final Kind kind;
    final boolean sync;

    Workload(String id, String label, Kind kind, boolean sync) {
      this.id = id;
      this.label = label;
      this.kind = kind;
      this.sync = sync;
    }

    String label(Options o) {
      return this == JEDIS_PIPELINE ? String.format(label, shortCount(o.pipelineCommands)) : label;
    }
  }

  /** Command-line settings; {@code --quick} changes the defaults. */
  static final class Options {
    boolean quick;
    int rounds = 3;
    long warmupMs = 3000;
    long measureMs = 3000;
    int pipelineCommands = 600_000;
    int warmupPipelines = 2;
    int startupRuns = 1;
    /** The production-like regime: redis-server in a network namespace behind netem, or null. */
    String netemHost;
    int netemPort;
    /** How run.sh set it up (veth, delays), for the report. */
    String netemSetup = "";
    /** Why the regime did not run (run.sh found no netem), for the report; null: not asked. */
    String netemUnavailable;
    int netemRounds = -1; // -1: as many as --rounds
    /** The production-like regime's workloads: the throughput ones (the pipeline is left out). */
    Workload[] netemWorkloads = {
      Workload.JEDIS_SYNC, Workload.JEDIS_POOL, Workload.LETTUCE_SYNC, Workload.LETTUCE_ASYNC
    };
    Path agentJar;
    Path otelJar;
    Path classes;
    Path appClasspathFile;
    Path out;
    String agentBuild = "?";

    static Options parse(String[] args) {
      Options o = new Options();
      for (String a : args) {
        if (a.equals("--quick")) {
          o.quick = true;
          o.rounds = 1;
          o.warmupMs = 300;
          o.measureMs = 700;
          o.pipelineCommands = 20_000;
          o.warmupPipelines = 1;
          o.startupRuns = 1;
          // two of them, one per client, to keep the smoke run near 2 minutes
          o.netemWorkloads = new Workload[] {Workload.JEDIS_SYNC, Workload.LETTUCE_ASYNC};
        }
      }
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        switch (a) {
          case "--quick":
            break;
          case "--agent-jar":
            o.agentJar = path(args[++i]);
            break;
          case "--otel-jar":
            o.otelJar = path(args[++i]);
            break;
          case "--classes":
            o.classes = path(args[++i]);
            break;
          case "--app-classpath-file":
            o.appClasspathFile = path(args[++i]);
            break;
          case "--out":
            o.out = path(args[++i]);
            break;
          case "--agent-build":
            o.agentBuild = args[++i];
            break;
          case "--rounds":
            o.rounds = Integer.parseInt(args[++i]);
            break;
          case "--warmup-seconds":
            o.warmupMs = Math.round(Double.parseDouble(args[++i]) * 1000);
            break;
          case "--measure-seconds":
            o.measureMs = Math.round(Double.parseDouble(args[++i]) * 1000);
            break;
          case "--pipeline-commands":
            o.pipelineCommands = Integer.parseInt(args[++i]);
            break;
          case "--warmup-pipelines":
            o.warmupPipelines = Integer.parseInt(args[++i]);
            break;
          case "--startup-runs":
            o.startupRuns = Integer.parseInt(args[++i]);
            break;
          case "--netem-redis": {
            String hp = args[++i];
            int colon = hp.lastIndexOf(':');
            o.netemHost = hp.substring(0, colon);
            o.netemPort = Integer.parseInt(hp.substring(colon + 1));
            break;
          }
          case "--netem-setup":
            o.netemSetup = args[++i];
            break;
          case "--netem-unavailable":
            o.netemUnavailable = args[++i];
            break;
          case "--netem-rounds":
            o.netemRounds = Integer.parseInt(args[++i]);
            break;
          default:
            throw new IllegalArgumentException("unknown argument " + a);
        }
      }
      for (Object[] required :
          new Object[][] {
            {o.agentJar, "--agent-jar"},
            {o.otelJar, "--otel-jar"},
            {o.classes, "--classes"},
            {o.appClasspathFile, "--app-classpath-file"},
            {o.out, "--out"}
          }) {
        if (required[0] == null) {
          throw new IllegalArgumentException(required[1] + " is required");
        }
        if (!required[1].equals("--out") && !Files.exists((Path) required[0])) {
          throw new IllegalArgumentException(
              required[1] + " " + required[0] + " does not exist; build first (benchmarks/run.sh"
                  + " does: mvn -B -q -DskipTests -pl benchmarks -am package)");
        }
      }
      for (Path jar : new Path[] {o.agentJar, o.otelJar}) {
        if (premainClass(jar) == null) {
          throw new IllegalArgumentException(jar + " is not a Java agent (no Premain-Class)");
        }
      }
      if (o.netemRounds < 0) {
        o.netemRounds = o.rounds;
      }
      if (o.rounds < 1 || o.measureMs < 100 || o.pipelineCommands < 1) {
        throw new IllegalArgumentException("rounds >= 1, measure >= 0.1 s, pipeline >= 1");
      }
      return o;
    }

    private static Path path(String arg) {
      return Paths.get(arg).toAbsolutePath().normalize();
    }
  }

  /** One workload JVM's RESULT line. */
  static final class Sample {
    /** Loopback, or the production-like regime (netem round trip). */
    final boolean netem;
    final int round;
    final Workload workload;
    final Agent agent;
    final double value; // ops/s or seconds
    final double allocPerOp;
    final double allocAllPerOp;
    final long peakRssKb;
    final long exportRequests;
    final double foreignCpu;
    double cpuMicrosPerOp = -1; // process CPU of the workload JVM per command; -1: not measured
    double appCpuMicrosPerOp = -1; // CPU of the workload and client I/O threads per command
    long spansDelivered; // spans the sink received from this JVM (it runs alone)
    long commandsRun = -1; // every command the JVM ran, warm-up included; -1: not reported
    /**
     * Spans dropped: this agent's own count (its "span(s) dropped" log lines, the last one at
     * exit); for the OTel agent, commands run - spans delivered (one span per command); -1: not
     * known (the OTel agent's pipeline, one span per command not known).
     */
    long spansDropped = -1;

    Sample(boolean netem, int round, Workload workload, Agent agent, double value,
        double allocPerOp, double allocAllPerOp, long peakRssKb, long exportRequests,
        double foreignCpu) {
      this.netem = netem;
      this.round = round;
      this.workload = workload;
      this.agent = agent;
      this.value = value;
      this.allocPerOp = allocPerOp;
      this.allocAllPerOp = allocAllPerOp;
      this.peakRssKb = peakRssKb;
      this.exportRequests = exportRequests;
      this.foreignCpu = foreignCpu;
    }
  }

  /**
   * What an agent reported: in full mode for the {@code check} workload (100 Jedis + 100 Lettuce
   * commands, exact counts); in quick mode whatever arrived during the workload runs.
   */
  static final class Check {
    long jedisSpans;
    long lettuceSpans;
    long otherSpans;
    double durationCount;
    final TreeSet<String> scopes = new TreeSet<>();
    final TreeSet<String> metricNames = new TreeSet<>();

    synchronized void add(ReceivedSpan span) {
      scopes.add(span.scope);
      String scope = span.scope.toLowerCase(Locale.ROOT);
      if (scope.contains("jedis")) {
        jedisSpans++;
      } else if (scope.contains("lettuce")) {
        lettuceSpans++;
      } else {
        otherSpans++;
      }
    }

    synchronized void add(ReceivedMetric metric, boolean countDurations) {
      metricNames.add(metric.name);
      if (countDurations && metric.name.equals("db.client.operation.duration")) {
        for (dev.redisresilience.harness.MetricPoint p : metric.points) {
          durationCount += p.count;
        }
      }
    }

    /** Fails the run when an agent did not instrument both clients. */
    void verify(Agent agent, String context) {
      if (jedisSpans == 0 || lettuceSpans == 0 || durationCount == 0) {
        throw new IllegalStateException(agent.label + " reported no Jedis spans, no Lettuce"
            + " spans or no db.client.operation.duration (" + jedisSpans + ", " + lettuceSpans
            + ", " + durationCount + "): the comparison would be meaningless" + context);
      }
    }
  }

  private final Options o;
  private final String appClasspath;
  private final long started = System.nanoTime();
  private final List<Sample> samples = new ArrayList<>();
  private final Map<Agent, List<Double>> startupMs = new EnumMap<>(Agent.class);
  private final Map<Agent, List<Double>> startupMainMs = new EnumMap<>(Agent.class);
  private final Map<Agent, Check> checks = new EnumMap<>(Agent.class);
  private final List<String> raw = new ArrayList<>();
  private final List<Double> startupForeignCpu = new ArrayList<>();
  private double idleCheckForeignCpu;
  /** Round trip (PING) to each regime's redis-server as the driver measured it, µs. */
  private RoundTrip loopbackRtt;
  private RoundTrip netemRtt;
  private RoundTrip netemRttAfter;
  private int repeats;
  private double waitedSeconds;
  private volatile RedisServer redis;
  private volatile ForkedJvm current;
  private OtlpReceiver sink;
  private CpuMeter cpu;

  private BenchmarkDriver(Options o) throws IOException {
    this.o = o;
    this.appClasspath =
        o.classes + File.pathSeparator + Files.readString(o.appClasspathFile).trim();
    for (Agent a : Agent.values()) {
      startupMs.put(a, new ArrayList<>());
      startupMainMs.put(a, new ArrayList<>());
    }
  }

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args);
    new BenchmarkDriver(o).run();
  }

  private void run() throws Exception {
    int jvms = o.rounds * (Workload.values().length * Agent.values().length + o.startupRuns * 3)
        + (o.quick ? 0 : 3)
        + (o.netemHost == null ? 0
            : o.netemRounds * o.netemWorkloads.length * Agent.NETEM.length);
    double perThroughput = (o.warmupMs + o.measureMs) / 1000.0;
    log(String.format(Locale.ROOT,
        "%s mode: %d round(s), %d forked JVMs; throughput workloads %.1f s warm-up + %.1f s"
            + " measured; pipeline %,d commands after %d warm-up pipeline(s); start-up x%d per"
            + " agent per round",
        o.quick ? "QUICK" : "full", o.rounds, jvms, o.warmupMs / 1000.0, o.measureMs / 1000.0,
        o.pipelineCommands, o.warmupPipelines, o.startupRuns));
    log(String.format(Locale.ROOT, "budget: about %.0f s of warm-up + measured time; JVM"
        + " start-ups, connecting and the agents' class transformation come on top (on 2 cores"
        + " about 100-110 s per loopback round, most of it the OTel agent's start-up)",
        (o.rounds * 4 * Agent.values().length + (o.netemHost == null ? 0
            : o.netemRounds * o.netemWorkloads.length * Agent.NETEM.length)) * perThroughput));
    if (o.netemHost != null) {
      log("production-like regime: redis-server at " + o.netemHost + ":" + o.netemPort + " ("
          + o.netemSetup + "), " + o.netemRounds + " round(s) of "
          + java.util.Arrays.toString(o.netemWorkloads) + " with "
          + java.util.Arrays.toString(Agent.NETEM));
    } else if (o.netemUnavailable != null) {
      log("production-like regime NOT run: " + o.netemUnavailable);
    }
    // Ctrl-C / SIGTERM: leave no redis-server or forked JVM behind
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      ForkedJvm c = current;
      if (c != null) {
        c.kill();
      }
      RedisServer r = redis;
      if (r != null) {
        r.close();
      }
    }, "benchmark-cleanup"));
    // full mode: a sink that discards, and a separate instrumentation check; quick mode: the
    // sink counts spans by agent (not kept) and the check is made from the workload runs
    try (RedisServer r = RedisServer.start();
        OtlpReceiver s = o.quick
            ? OtlpReceiver.startHttpOnly().onSpan(span -> quickCheck(span.resource).add(span))
            : OtlpReceiver.startHttpOnly().discarding()) {
      this.redis = r;
      this.sink = s;
      this.cpu = new CpuMeter();
      log("redis-server on 127.0.0.1:" + r.port() + ", OTLP sink on " + s.httpEndpoint()
          + (o.quick ? " (counts spans per agent to check that both report)"
              : " (accepts and discards)"));
      CpuMeter.Reading idle0 = cpu.read();
      Thread.sleep(2000);
      idleCheckForeignCpu = cpu.read().foreignShare(idle0);
      log(String.format(Locale.ROOT, "other processes used %.0f%% of the CPUs in the last 2 s%s",
          100 * idleCheckForeignCpu, idleCheckForeignCpu > FOREIGN_CPU_WARNING
              ? ": WARNING, the machine is not idle; results will be disturbed" : ""));
      if (!o.quick) {
        instrumentationCheck();
      }
      for (int round = 0; round < o.rounds; round++) {
        for (int i = 0; i < o.startupRuns; i++) {
          for (Agent a : order(Agent.values(), round + i)) {
            if (a != Agent.SPANS_OFF && a != Agent.INTERESTING) { // same jar and premain as OURS
              startup(round, a);
            }
          }
        }
        Workload[] workloads = Workload.values();
        for (int w = 0; w < workloads.length; w++) {
          for (Agent a : order(Agent.values(), round + w)) {
            workload(false, round, workloads[w], a);
          }
        }
      }
      loopbackRtt = RoundTrip.measure("127.0.0.1", r.port(), o.quick ? 500 : 3000);
      log("round trip to the loopback redis-server (PING from the driver): " + loopbackRtt);
      if (o.netemHost != null) {
        netemRtt = RoundTrip.measure(o.netemHost, o.netemPort, o.quick ? 500 : 3000);
        log("round trip to the netem redis-server (PING from the driver): " + netemRtt);
        for (int round = 0; round < o.netemRounds; round++) {
          for (int w = 0; w < o.netemWorkloads.length; w++) {
            for (Agent a : order(Agent.NETEM, round + w)) {
              workload(true, round, o.netemWorkloads[w], a);
            }
          }
        }
        netemRttAfter = RoundTrip.measure(o.netemHost, o.netemPort, o.quick ? 500 : 3000);
        log("round trip to the netem redis-server after its runs: " + netemRttAfter);
      }
      if (o.quick) {
        verifyQuick();
      }
    }
    String report = new Report(o, samples, startupMs, startupMainMs, checks, elapsedSeconds(),
        startupForeignCpu, idleCheckForeignCpu, repeats, waitedSeconds, loopbackRtt, netemRtt,
        netemRttAfter).markdown();
    Files.createDirectories(o.out.getParent());
    Files.writeString(o.out, report, StandardCharsets.UTF_8);
    Path rawFile = o.out.resolveSibling(o.out.getFileName().toString().replaceAll("\\.md$", "")
        + ".raw");
    Files.write(rawFile, raw, StandardCharsets.UTF_8);
    System.out.println();
    System.out.println(report);
    log("wrote " + o.out + " (raw samples: " + rawFile.getFileName() + ") in "
        + String.format(Locale.ROOT, "%.0f s", elapsedSeconds()));
  }

  /** Above this share of the CPUs used by other processes during a run, the report warns. */
  static final double FOREIGN_CPU_WARNING = 0.10;
  /** Full mode: at most this many disturbed runs are repeated, and this long waited for quiet. */
  static final int MAX_REPEATS = 15;
  static final double MAX_WAIT_SECONDS = 240;


  /** Agents in round-robin order, rotated by {@code shift}. */
  private static List<Agent> order(Agent[] all, int shift) {
    List<Agent> out = new ArrayList<>();
    for (int i = 0; i < all.length; i++) {
      out.add(all[(i + shift) % all.length]);
    }
    return out;
  }

  private ForkedJvm.Builder jvm(String name, Agent agent, String endpoint) {
    ForkedJvm.Builder b = ForkedJvm.builder().name(name + "-" + agent.id).classpath(appClasspath);
    // both agents get the same OTEL_* settings; everything else at its default
    b.env("OTEL_SERVICE_NAME", "redis-benchmark");
    b.env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
    b.env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
    b.env("OTEL_METRIC_EXPORT_INTERVAL", "10000");
    // tells the quick mode's sink which JVM sent what
    b.env("OTEL_RESOURCE_ATTRIBUTES", "benchmark.agent=" + agent.id);
    switch (agent) {
      case OURS:
        b.agent(o.agentJar);
        break;
      case SPANS_OFF:
        b.agent(o.agentJar);
        b.sysProp("redis.resilience.telemetry.spans.enabled", "false");
        break;
      case INTERESTING:
        b.agent(o.agentJar);
        // ratio and slow threshold at their defaults
        b.sysProp("redis.resilience.telemetry.spans.sampling", "interesting");
        break;
      case OTEL:
        b.agent(o.otelJar);
        b.sysProp("otel.semconv-stability.opt-in", "database");
        break;
      default:
        break;
    }
    return b;
  }

  /** One forked run's outcome, recorded only once it is kept. */
  private interface Run {
    double foreignCpu();

    void record();
  }

  /**
   * Runs {@code run} on a quiet machine: waits while other processes keep the CPUs busy, and in
   * full mode repeats a run once when other processes used more than {@link
   * #FOREIGN_CPU_WARNING} of the CPUs during it, keeping the less disturbed of the two.
   */
  private void quietly(String what, java.util.function.Supplier<Run> run) {
    awaitQuiet();
    Run kept = run.get();
    if (!o.quick && kept.foreignCpu() > FOREIGN_CPU_WARNING && repeats < MAX_REPEATS) {
      repeats++;
      log(String.format(Locale.ROOT, "%s was disturbed (other processes used %.0f%% of the CPUs);"
          + " repeating it (%d/%d)", what, 100 * kept.foreignCpu(), repeats, MAX_REPEATS));
      awaitQuiet();
      Run again = run.get();
      if (again.foreignCpu() <= kept.foreignCpu()) {
        kept = again;
      }
    }
    kept.record();
  }

  /** Full mode: waits (up to 60 s, 240 s in all) while other processes use the CPUs. */
  private void awaitQuiet() {
    if (o.quick) {
      return;
    }
    long deadline = System.nanoTime() + 60_000_000_000L;
    boolean logged = false;
    while (true) {
      CpuMeter.Reading a = cpu.read();
      sleepMs(300);
      double foreign = cpu.read().foreignShare(a);
      if (foreign <= FOREIGN_CPU_WARNING || System.nanoTime() > deadline
          || waitedSeconds >= MAX_WAIT_SECONDS) {
        return;
      }
      if (!logged) {
        log(String.format(Locale.ROOT, "other processes use %.0f%% of the CPUs; waiting for a"
            + " quiet machine (at most 60 s)", 100 * foreign));
        logged = true;
      }
      sleepMs(700);
      waitedSeconds += 1;
    }
  }

  private static void sleepMs(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void startup(int round, Agent agent) {
    quietly("start-up " + agent.id, () -> {
      ForkedJvm jvm = jvm("startup", agent, sink.httpEndpoint())
          .mainClass(StartupMain.class.getName())
          .build();
      CpuMeter.Reading before = cpu.read();
      long epoch0 = System.currentTimeMillis();
      long t0 = System.nanoTime();
      current = jvm;
      ForkedJvm.Result r = jvm.start().await(Duration.ofSeconds(120));
      double ms = (System.nanoTime() - t0) / 1e6;
      double foreign = cpu.read().foreignShare(before);
      r.assertSuccess();
      Matcher m = Pattern.compile("started at (\\d+)").matcher(r.stdout);
      if (!m.find()) {
        throw new IllegalStateException("start-up main printed nothing\n" + r.describe());
      }
      double toMain = Long.parseLong(m.group(1)) - epoch0;
      return new Run() {
        @Override
        public double foreignCpu() {
          return foreign;
        }

        @Override
        public void record() {
          startupMs.get(agent).add(ms);
          startupMainMs.get(agent).add(toMain);
          startupForeignCpu.add(foreign);
          raw.add(String.format(Locale.ROOT,
              "round=%d workload=startup agent=%s wallMs=%.1f toMainMs=%.0f foreignCpu=%.3f",
              round + 1, agent.id, ms, toMain, foreign));
          progress(round, "startup", agent, String.format(Locale.ROOT,
              "%,.0f ms to exit (%,.0f ms to main)  other CPU %.0f%%", ms, toMain,
              100 * foreign));
        }
      };
    });
  }

  private void workload(boolean netem, int round, Workload w, Agent agent) {
    String regime = netem ? "netem " : "";
    quietly(regime + w.id + " " + agent.id, () -> {
      long exports0 = sink.httpRequests();
      long spans0 = sink.spansReceived();
      long timeoutS = w.kind == Kind.TIME ? 300 : 90 + (o.warmupMs + o.measureMs) / 1000;
      ForkedJvm.Builder b = jvm((netem ? "netem-" : "") + w.id, agent, sink.httpEndpoint())
          .mainClass(BenchmarkApp.class.getName())
          .args(w.id, String.valueOf(netem ? o.netemPort : redis.port()),
              String.valueOf(o.warmupMs), String.valueOf(o.measureMs),
              String.valueOf(o.pipelineCommands), String.valueOf(o.warmupPipelines));
      if (netem) {
        b.sysProp("bench.redis.host", o.netemHost);
      }
      ForkedJvm jvm = b.build();
      CpuMeter.Reading before = cpu.read();
      current = jvm;
      ForkedJvm.Result r = jvm.start().await(Duration.ofSeconds(timeoutS));
      double foreign = cpu.read().foreignShare(before);
      r.assertSuccess();
      long exports = sink.httpRequests() - exports0;
      long spans = sink.spansReceived() - spans0; // final exports happen before the JVM exits
      Map<String, String> kv = result(r);
      double value = Double.parseDouble(kv.get(w.kind == Kind.TIME ? "seconds" : "opsPerSec"));
      Sample s = new Sample(netem, round, w, agent, value,
          Double.parseDouble(kv.get("allocBytesPerOp")),
          Double.parseDouble(kv.get("allocAllBytesPerOp")), Long.parseLong(kv.get("peakRssKb")),
          exports, foreign);
      if (kv.containsKey("cpuMicrosPerOp")) {
        s.cpuMicrosPerOp = Double.parseDouble(kv.get("cpuMicrosPerOp"));
      }
      if (kv.containsKey("appCpuMicrosPerOp")) {
        s.appCpuMicrosPerOp = Double.parseDouble(kv.get("appCpuMicrosPerOp"));
      }
      s.spansDelivered = spans;
      if (kv.containsKey("commandsRun")) {
        s.commandsRun = Long.parseLong(kv.get("commandsRun"));
      }
      if (agent.ours()) {
        s.spansDropped = droppedLogged(r.stdout + "\n" + r.stderr);
      } else if (agent == Agent.OTEL && w.kind == Kind.THROUGHPUT && s.commandsRun > 0) {
        s.spansDropped = Math.max(0, s.commandsRun - spans);
      }
      String line = r.linesStartingWith("RESULT").get(0);
      return new Run() {
        @Override
        public double foreignCpu() {
          return foreign;
        }

        @Override
        public void record() {
          samples.add(s);
          raw.add(String.format(Locale.ROOT,
              "regime=%s round=%d agent=%s %s otlpRequests=%d spansDelivered=%d spansDropped=%d"
                  + " foreignCpu=%.3f", netem ? "netem" : "loopback", round + 1, agent.id, line,
              exports, spans, s.spansDropped, foreign));
          String shown = w.kind == Kind.TIME
              ? String.format(Locale.ROOT, "%.3f s", value)
              : String.format(Locale.ROOT, "%,.0f ops/s", value);
          progress(round, regime + w.id, agent, String.format(Locale.ROOT,
              "%-14s alloc %,7.0f B/op  CPU %6.1f µs/op  peak RSS %,5d MiB  spans delivered %,9d"
                  + " dropped %s  other CPU %.0f%%",
              shown, s.allocPerOp, s.cpuMicrosPerOp, s.peakRssKb / 1024, spans,
              s.spansDropped < 0 ? "n/a" : String.format(Locale.ROOT, "%,d", s.spansDropped),
              100 * foreign));
        }
      };
    });
  }

  private static final Pattern DROPPED = Pattern.compile("(\\d+) span\\(s\\) dropped");

  /** The sum of this agent's "N span(s) dropped" log lines (it logs the rest at exit). */
  static long droppedLogged(String output) {
    long n = 0;
    Matcher m = DROPPED.matcher(output);
    while (m.find()) {
      n += Long.parseLong(m.group(1));
    }
    return n;
  }

  private static Map<String, String> result(ForkedJvm.Result r) {
    List<String> lines = r.linesStartingWith("RESULT");
    if (lines.size() != 1) {
      throw new IllegalStateException("expected one RESULT line\n" + r.describe());
    }
    Map<String, String> kv = new LinkedHashMap<>();
    for (String part : lines.get(0).split(" ")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        kv.put(part.substring(0, eq), part.substring(eq + 1));
      }
    }
    return kv;
  }

  /**
   * Runs 100 Jedis and 100 Lettuce commands with each agent against a receiver that keeps what it
   * gets, so the report can say what each agent actually emitted (both must be instrumenting for
   * the comparison to mean anything).
   */
  private void instrumentationCheck() {
    for (Agent agent : new Agent[] {Agent.OURS, Agent.OTEL, Agent.INTERESTING}) {
      try (OtlpReceiver keep = OtlpReceiver.startHttpOnly()) {
        ForkedJvm jvm = jvm("check", agent, keep.httpEndpoint())
            .mainClass(BenchmarkApp.class.getName())
            .args("check", String.valueOf(redis.port()), "0", "0")
            .build();
        current = jvm;
        ForkedJvm.Result r = jvm.start().await(Duration.ofSeconds(120)).assertSuccess();
        result(r);
        Check c = new Check();
        keep.spans().forEach(c::add);
        keep.metricExports().forEach(m -> c.add(m, false));
        // the newest cumulative point of each series: one count per operation
        c.durationCount = keep.total("db.client.operation.duration", a -> true);
        checks.put(agent, c);
        if (agent == Agent.INTERESTING) {
          // sampled (or, while the agent ignores the setting, every span): the metric is exact
          long spans = c.jedisSpans + c.lettuceSpans + c.otherSpans;
          if (spans > 220 || c.durationCount < 200) {
            throw new IllegalStateException(agent.label + ": " + spans + " spans and"
                + " db.client.operation.duration count " + c.durationCount + " for 200 commands;"
                + " expected at most 200 (+20 for connection set-up) and at least 200\n"
                + r.describe());
          }
        } else {
          c.verify(agent, "\n" + r.describe());
        }
        log(String.format(Locale.ROOT,
            "instrumentation check, %s: %d Jedis spans, %d Lettuce spans (for 100 + 100"
                + " commands), %d other spans, db.client.operation.duration count %.0f",
            agent.label, c.jedisSpans, c.lettuceSpans, c.otherSpans, c.durationCount));
      }
    }
  }

  /** Quick mode: which agent sent a span (resource attribute benchmark.agent). */
  private Check quickCheck(Map<String, Object> resource) {
    Object id = resource.get("benchmark.agent");
    for (Agent a : Agent.values()) {
      if (a.id.equals(id)) {
        synchronized (checks) {
          return checks.computeIfAbsent(a, k -> new Check());
        }
      }
    }
    return new Check(); // not from a benchmark JVM: ignored
  }

  /** Quick mode: checks that both agents' telemetry arrived during the workload runs. */
  private void verifyQuick() {
    for (ReceivedMetric m : sink.metricExports()) {
      quickCheck(m.resource).add(m, true);
    }
    for (Agent a : new Agent[] {Agent.OURS, Agent.OTEL}) {
      Check c = quickCheck(Map.of("benchmark.agent", a.id));
      c.verify(a, "");
      log(String.format(Locale.ROOT,
          "telemetry received from %s during the runs: %d Jedis spans, %d Lettuce spans,"
              + " db.client.operation.duration points counting %.0f operations",
          a.label, c.jedisSpans, c.lettuceSpans, c.durationCount));
    }
    // interesting spans: the setting may not be implemented by the agent under test yet (then it
    // is ignored and every span is exported), so only "no more spans than commands" is checked,
    // per JVM (a few connection set-up commands, e.g. HELLO, are allowed for), and the metrics
    Check interesting = quickCheck(Map.of("benchmark.agent", Agent.INTERESTING.id));
    long interestingCommands = 0;
    for (Sample s : samples) {
      if (s.agent == Agent.INTERESTING && s.commandsRun > 0 && s.workload.kind == Kind.THROUGHPUT) {
        interestingCommands += s.commandsRun;
        if (s.spansDelivered > s.commandsRun + 20) {
          throw new IllegalStateException(Agent.INTERESTING.label + " delivered "
              + s.spansDelivered + " spans for " + s.commandsRun + " commands in " + s.workload.id);
        }
      }
    }
    if (interesting.durationCount == 0) {
      throw new IllegalStateException(Agent.INTERESTING.label + " sent no"
          + " db.client.operation.duration");
    }
    log(String.format(Locale.ROOT, "telemetry received from %s: %d spans for %,d commands of the"
        + " throughput workloads and the pipelines' spans (%.1f%%;"
        + " 100%% while the agent ignores the setting), db.client.operation.duration points"
        + " counting %.0f operations", Agent.INTERESTING.label,
        interesting.jedisSpans + interesting.lettuceSpans + interesting.otherSpans,
        interestingCommands, 100.0 * (interesting.jedisSpans + interesting.lettuceSpans
            + interesting.otherSpans) / Math.max(1, interestingCommands),
        interesting.durationCount));
    Check off = quickCheck(Map.of("benchmark.agent", Agent.SPANS_OFF.id));
    if (off.jedisSpans + off.lettuceSpans + off.otherSpans != 0 || off.durationCount == 0) {
      throw new IllegalStateException(Agent.SPANS_OFF.label + " sent " + (off.jedisSpans
          + off.lettuceSpans + off.otherSpans) + " spans and duration points counting "
          + off.durationCount + " operations: expected no span and the metrics");
    }
    log(String.format(Locale.ROOT, "telemetry received from %s: no spans,"
        + " db.client.operation.duration points counting %.0f operations", Agent.SPANS_OFF.label,
        off.durationCount));
  }

  private void progress(int round, String what, Agent agent, String detail) {
    System.out.println(String.format(Locale.ROOT, "[%4.0fs] round %d/%d  %-15s %-6s %s",
        elapsedSeconds(), round + 1, o.rounds, what, agent.id, detail));
    System.out.flush();
  }

  private void log(String line) {
    System.out.println(String.format(Locale.ROOT, "[%4.0fs] %s", elapsedSeconds(), line));
    System.out.flush();
  }

  private double elapsedSeconds() {
    return (System.nanoTime() - started) / 1e9;
  }

  static String shortCount(long n) {
    if (n % 1000 == 0 && n >= 1000) {
      return (n / 1000) + "k";
    }
    return String.valueOf(n);
  }

  // ---------------------------------------------------------------- environment facts

  static String premainClass(Path jar) {
    try (JarFile j = new JarFile(jar.toFile())) {
      return j.getManifest() == null ? null
          : j.getManifest().getMainAttributes().getValue("Premain-Class");
    } catch (IOException e) {
      return null;
    }
  }

  /** The first 12 hex digits of a file's SHA-256. */
  static String sha256(Path file) {
    try (java.io.InputStream in = Files.newInputStream(file)) {
      java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
      StringBuilder hex = new StringBuilder();
      for (byte b : md.digest()) {
        hex.append(String.format(Locale.ROOT, "%02x", b));
      }
      return hex.substring(0, 12);
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      return "?";
    }
  }

  /** Implementation-Version from a jar's manifest. */
  static String jarVersion(Path jar) {
    try (JarFile j = new JarFile(jar.toFile())) {
      String v = j.getManifest().getMainAttributes().getValue("Implementation-Version");
      return v == null ? "?" : v;
    } catch (IOException e) {
      return "?";
    }
  }

  /** The version in a class-path entry's file name, e.g. jedis-8.0.2.jar. */
  static String versionOnClasspath(String classpath, String artifact) {
    Pattern p = Pattern.compile(Pattern.quote(artifact) + "-([0-9][^/" + File.pathSeparator
        + "]*)\\.jar");
    for (String entry : classpath.split(File.pathSeparator)) {
      Matcher m = p.matcher(Paths.get(entry).getFileName().toString());
      if (m.matches()) {
        return m.group(1);
      }
    }
    return "?";
  }

  static String firstLine(String file, String prefix) {
    try {
      for (String line : Files.readAllLines(Paths.get(file))) {
        if (line.startsWith(prefix)) {
          return line.substring(prefix.length()).replaceFirst("^\\s*:?\\s*", "").trim();
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    return "?";
  }

  static String redisVersion() {
    try {
      Process p = new ProcessBuilder(RedisServer.binary(), "--version").redirectErrorStream(true)
          .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor();
      Matcher m = Pattern.compile("v=([0-9.]+)").matcher(out);
      return m.find() ? m.group(1) : out.trim();
    } catch (IOException | InterruptedException e) {
      return "?";
    }
  }

  static Map<String, String> machine() {
    Map<String, String> m = new TreeMap<>();
    m.put("cores", String.valueOf(Runtime.getRuntime().availableProcessors()));
    m.put("cpu", firstLine("/proc/cpuinfo", "model name"));
    String mem = firstLine("/proc/meminfo", "MemTotal:");
    try {
      m.put("memory", String.format(Locale.ROOT, "%.1f GiB",
          Long.parseLong(mem.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0));
    } catch (NumberFormatException e) {
      m.put("memory", mem);
    }
    m.put("os", firstLine("/etc/os-release", "PRETTY_NAME=").replace("\"", "").replaceFirst("^=",
        ""));
    m.put("kernel", System.getProperty("os.version"));
    m.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty(
        "java.runtime.version") + " (" + System.getProperty("java.vendor") + ")");
    return m;
  }
}
