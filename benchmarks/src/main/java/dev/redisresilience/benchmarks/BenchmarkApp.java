package dev.redisresilience.benchmarks;

import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.JedisPoolConfig;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;

/**
 * One workload in its own JVM (run with no agent, this agent, or the OpenTelemetry agent). An
 * ordinary application: it knows nothing about agents. Prints one machine-readable line:
 *
 * <pre>RESULT workload=jedis-sync ops=.. seconds=.. opsPerSec=.. allocBytesPerOp=.. allocAllBytesPerOp=.. peakRssKb=..</pre>
 *
 * <p>Args: workload redisPort warmupMillis measureMillis [pipelineCommands warmupPipelines]
 *
 * <p>Throughput workloads: the warm-up starts when every worker has completed its first command
 * (connections, class loading and agents' class transformation are not warm-up), then the
 * measured phase counts completed commands for a fixed time.
 *
 * <ul>
 *   <li>{@code jedis-sync}: one thread, one {@code Jedis}, SET and GET alternating.
 *   <li>{@code jedis-pool}: 8 threads on a {@code JedisPool} of 8, one borrow per command.
 *   <li>{@code jedis-pipeline}: the time of a pipeline of N {@code SET k v} (after warm-up
 *       pipelines of the same size); {@code seconds} is the median of {@link #TIMED_PIPELINES}.
 *   <li>{@code lettuce-sync}: one thread, one connection, sync API, SET and GET alternating.
 *   <li>{@code lettuce-async}: one thread, one connection, async API, 100 commands issued then all
 *       awaited, repeated.
 *   <li>{@code check}: 100 Jedis and 100 Lettuce commands, for the instrumentation check.
 * </ul>
 *
 * <p>Allocation: {@code allocBytesPerOp} counts the workload's threads and the client's own I/O
 * threads (Lettuce's {@code lettuce-*} event loops), measured phase only. {@code
 * allocAllBytesPerOp} counts every Java thread alive at the end of the measured phase, including
 * agents' exporter threads (threads that ended during the phase are missed).
 */
public final class BenchmarkApp {
  /** Where redis-server is: loopback, or the benchmark's network namespace (run.sh netem regime). */
  static final String HOST = System.getProperty("bench.redis.host", "127.0.0.1");
  static final int KEYS = 1000;
  static final int PIPELINE_KEYS = 10_000;
  static final String VALUE = "value-0123456789"; // 16 bytes
  static final String[] KEY = keys("bench:key:", KEYS);
  static final String[] PIPELINE_KEY = keys("bench:pipe:", PIPELINE_KEYS);

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private BenchmarkApp() {}

  public static void main(String[] args) throws Exception {
    String workload = args[0];
    int port = Integer.parseInt(args[1]);
    long warmupMs = Long.parseLong(args[2]);
    long measureMs = Long.parseLong(args[3]);
    int pipelineCommands = args.length > 4 ? Integer.parseInt(args[4]) : 600_000;
    int warmupPipelines = args.length > 5 ? Integer.parseInt(args[5]) : 1;
    THREADS.setThreadAllocatedMemoryEnabled(true);

    Measurement m;
    switch (workload) {
      case "jedis-sync":
        m = jedisSync(port, warmupMs, measureMs);
        break;
      case "jedis-pool":
        m = jedisPool(port, 8, warmupMs, measureMs);
        break;
      case "jedis-pipeline":
        m = jedisPipeline(port, pipelineCommands, warmupPipelines);
        break;
      case "lettuce-sync":
        m = lettuceSync(port, warmupMs, measureMs);
        break;
      case "lettuce-async":
        m = lettuceAsync(port, 100, warmupMs, measureMs);
        break;
      case "check":
        m = check(port);
        break;
      default:
        throw new IllegalArgumentException("unknown workload " + workload);
    }
    System.out.println(
        String.format(
            Locale.ROOT,
            "RESULT workload=%s ops=%d seconds=%.6f opsPerSec=%.1f allocBytesPerOp=%.1f"
                + " allocAllBytesPerOp=%.1f cpuMicrosPerOp=%.3f appCpuMicrosPerOp=%.3f peakRssKb=%d"
                + " threads=%d commandsRun=%d",
            workload,
            m.ops,
            m.seconds,
            m.ops / m.seconds,
            (double) m.allocBytes / m.ops,
            (double) m.allocAllBytes / m.ops,
            m.cpuNanos < 0 ? -1.0 : m.cpuNanos / 1e3 / m.ops,
            m.appCpuNanos < 0 ? -1.0 : m.appCpuNanos / 1e3 / m.ops,
            peakRssKb(),
            m.threads,
            m.commandsRun));
    System.out.flush();
    // agents' shutdown hooks (final export) still run
    System.exit(0);
  }

  /** What the measured phase did. */
  static final class Measurement {
    long ops;
    double seconds;
    long allocBytes;
    long allocAllBytes;
    long cpuNanos = -1; // process CPU (all threads, JIT and GC included) in the measured phase
    // CPU of the workload's own threads and the client's I/O threads (where Lettuce completes
    // commands): the application-thread cost of an agent, without its exporters, JIT and GC
    long appCpuNanos = -1;
    int threads;
    long commandsRun; // every command of the run, warm-up and start included (spans expected)
  }

  private static long processCpuNanos() {
    java.lang.management.OperatingSystemMXBean os =
        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean
        ? ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime()
        : -1;
  }

  /** One step of a worker loop; returns the number of Redis commands it completed. */
  interface Step {
    int run() throws Exception;
  }

  interface StepFactory {
    Step create(int worker) throws Exception;
  }

  // ---------------------------------------------------------------- workloads

  static Measurement jedisSync(int port, long warmupMs, long measureMs) throws Exception {
    try (Jedis jedis = new Jedis(HOST, port)) {
      return throughput(1, w -> setGet(jedis), warmupMs, measureMs);
    }
  }

  private static Step setGet(Jedis jedis) {
    long[] i = {0};
    return () -> {
      long n = i[0]++;
      String key = KEY[(int) ((n >>> 1) % KEYS)];
      if ((n & 1) == 0) {
        jedis.set(key, VALUE);
      } else {
        jedis.get(key);
      }
      return 1;
    };
  }

  // JedisPool is deprecated in Jedis 8 (RedisClient replaces it) but is what most applications
  // still use; the agent instruments both
  @SuppressWarnings("deprecation")
  static Measurement jedisPool(int port, int threads, long warmupMs, long measureMs)
      throws Exception {
    JedisPoolConfig config = new JedisPoolConfig();
    config.setMaxTotal(threads);
    config.setMaxIdle(threads);
    config.setMinIdle(threads);
    try (JedisPool pool = new JedisPool(config, HOST, port)) {
      return throughput(
          threads,
          w -> {
            long[] i = {w * 7919L};
            return () -> {
              long n = i[0]++;
              String key = KEY[(int) ((n >>> 1) % KEYS)];
              try (Jedis jedis = pool.getResource()) {
                if ((n & 1) == 0) {
                  jedis.set(key, VALUE);
                } else {
                  jedis.get(key);
                }
              }
              return 1;
            };
          },
          warmupMs,
          measureMs);
    }
  }

  /**
   * Timed pipelines per run; the time is their median. One pipeline of 600k commands is mostly
   * young collections copying its replies, so a single one measured how G1 happened to size the
   * heap (spread 23 % between rounds), not the client.
   */
  static final int TIMED_PIPELINES = 3;

  static Measurement jedisPipeline(int port, int commands, int warmups) {
    try (Jedis jedis = new Jedis(HOST, port)) {
      for (int i = 0; i < warmups; i++) {
        pipeline(jedis, commands);
      }
      Map<Long, Long> all0 = allocatedByThread();
      long a0 = THREADS.getCurrentThreadAllocatedBytes();
      long[] times = new long[TIMED_PIPELINES];
      for (int i = 0; i < TIMED_PIPELINES; i++) {
        long t0 = System.nanoTime();
        pipeline(jedis, commands);
        times[i] = System.nanoTime() - t0;
      }
      long a1 = THREADS.getCurrentThreadAllocatedBytes();
      Map<Long, Long> all1 = allocatedByThread();
      java.util.Arrays.sort(times);
      Measurement m = new Measurement();
      m.ops = commands;
      m.commandsRun = (long) commands * (warmups + TIMED_PIPELINES);
      m.seconds = times[TIMED_PIPELINES / 2] / 1e9;
      // per command of the timed pipelines
      m.allocBytes = (a1 - a0) / TIMED_PIPELINES;
      m.allocAllBytes = delta(all0, all1) / TIMED_PIPELINES;
      m.threads = 1;
      return m;
    }
  }

  private static void pipeline(Jedis jedis, int commands) {
    Response<String> last = null;
    try (Pipeline p = jedis.pipelined()) {
      for (int i = 0; i < commands; i++) {
        last = p.set(PIPELINE_KEY[i % PIPELINE_KEYS], VALUE);
      }
      p.sync();
    }
    if (last == null || !"OK".equals(last.get())) {
      throw new IllegalStateException("pipeline: last reply " + (last == null ? null : last.get()));
    }
  }

  static Measurement lettuceSync(int port, long warmupMs, long measureMs) throws Exception {
    RedisClient client = RedisClient.create(RedisURI.create(HOST, port));
    try (StatefulRedisConnection<String, String> conn = client.connect()) {
      RedisCommands<String, String> sync = conn.sync();
      return throughput(
          1,
          w -> {
            long[] i = {0};
            return () -> {
              long n = i[0]++;
              String key = KEY[(int) ((n >>> 1) % KEYS)];
              if ((n & 1) == 0) {
                sync.set(key, VALUE);
              } else {
                sync.get(key);
              }
              return 1;
            };
          },
          warmupMs,
          measureMs);
    }
    // no client.shutdown(): netty's graceful shutdown takes about a second; main() exits the JVM
  }

  static Measurement lettuceAsync(int port, int batch, long warmupMs, long measureMs)
      throws Exception {
    RedisClient client = RedisClient.create(RedisURI.create(HOST, port));
    try (StatefulRedisConnection<String, String> conn = client.connect()) {
      RedisAsyncCommands<String, String> async = conn.async();
      return throughput(
          1,
          w -> {
            long[] i = {0};
            RedisFuture<?>[] futures = new RedisFuture<?>[batch];
            return () -> {
              for (int k = 0; k < batch; k++) {
                long n = i[0]++;
                String key = KEY[(int) ((n >>> 1) % KEYS)];
                futures[k] = (n & 1) == 0 ? async.set(key, VALUE) : async.get(key);
              }
              if (!LettuceFutures.awaitAll(10, TimeUnit.SECONDS, futures)) {
                throw new IllegalStateException("async batch did not complete within 10s");
              }
              return batch;
            };
          },
          warmupMs,
          measureMs);
    }
    // no client.shutdown(): netty's graceful shutdown takes about a second; main() exits the JVM
  }

  /** A few commands on each client, so the driver can count what each agent reports. */
  static Measurement check(int port) {
    long t0 = System.nanoTime();
    try (Jedis jedis = new Jedis(HOST, port)) {
      for (int i = 0; i < 50; i++) {
        jedis.set(KEY[i], VALUE);
        jedis.get(KEY[i]);
      }
    }
    RedisClient client = RedisClient.create(RedisURI.create(HOST, port));
    try (StatefulRedisConnection<String, String> conn = client.connect()) {
      RedisCommands<String, String> sync = conn.sync();
      for (int i = 0; i < 50; i++) {
        sync.set(KEY[i], VALUE);
        sync.get(KEY[i]);
      }
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    Measurement m = new Measurement();
    m.ops = 200;
    m.commandsRun = 200;
    m.seconds = (System.nanoTime() - t0) / 1e9;
    m.threads = 1;
    return m;
  }

  // ---------------------------------------------------------------- the throughput loop

  /**
   * Runs {@code threads} workers until warm-up plus measured time have passed; counts commands
   * and allocation of the measured phase only.
   */
  static Measurement throughput(int threads, StepFactory steps, long warmupMs, long measureMs)
      throws Exception {
    AtomicLong[] counters = new AtomicLong[threads];
    Thread[] workers = new Thread[threads];
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicBoolean running = new AtomicBoolean(true);
    CountDownLatch ready = new CountDownLatch(threads);
    for (int w = 0; w < threads; w++) {
      AtomicLong counter = new AtomicLong();
      counters[w] = counter;
      Step step = steps.create(w);
      workers[w] = new Thread(() -> {
        try {
          counter.lazySet(step.run());
          ready.countDown();
          while (running.get()) {
            int done = step.run();
            counter.lazySet(counter.get() + done);
          }
        } catch (Throwable t) {
          failure.compareAndSet(null, t);
          running.set(false);
          ready.countDown();
        }
      }, "bench-worker-" + w);
    }
    for (Thread t : workers) {
      t.start();
    }
    // warm-up starts once every worker has completed a command: connecting, class loading and
    // the agents' class transformation are start-up, not warm-up
    if (!ready.await(120, TimeUnit.SECONDS)) {
      throw new IllegalStateException("workers did not complete a first command within 120s");
    }
    if (Boolean.getBoolean("bench.trace")) {
      trace(counters, running);
    }
    sleepChecking(warmupMs, failure);

    long[] ids = measuredThreadIds(workers);
    Map<Long, Long> all0 = allocatedByThread();
    long a0 = sum(THREADS.getThreadAllocatedBytes(ids));
    long ops0 = sum(counters);
    long cpu0 = processCpuNanos();
    long app0 = threadsCpuNanos(ids);
    long t0 = System.nanoTime();

    sleepChecking(measureMs, failure);

    long ops1 = sum(counters);
    long t1 = System.nanoTime();
    long cpu1 = processCpuNanos();
    long app1 = threadsCpuNanos(ids);
    long a1 = sum(THREADS.getThreadAllocatedBytes(ids));
    Map<Long, Long> all1 = allocatedByThread();

    running.set(false);
    for (Thread t : workers) {
      t.join(TimeUnit.SECONDS.toMillis(30));
    }
    if (failure.get() != null) {
      throw new IllegalStateException("worker failed", failure.get());
    }
    Measurement m = new Measurement();
    m.ops = ops1 - ops0;
    m.commandsRun = sum(counters);
    m.seconds = (t1 - t0) / 1e9;
    m.allocBytes = a1 - a0;
    m.allocAllBytes = delta(all0, all1);
    m.cpuNanos = cpu0 < 0 || cpu1 < 0 ? -1 : cpu1 - cpu0;
    m.appCpuNanos = app0 < 0 || app1 < 0 ? -1 : app1 - app0;
    m.threads = threads;
    if (m.ops <= 0) {
      throw new IllegalStateException("no command completed in the measured phase");
    }
    return m;
  }

  /** -Dbench.trace=true: commands per second, once a second, to see how long warm-up takes. */
  private static void trace(AtomicLong[] counters, AtomicBoolean running) {
    Thread t = new Thread(() -> {
      long start = System.nanoTime();
      long last = sum(counters);
      while (running.get()) {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          return;
        }
        long now = sum(counters);
        System.out.printf(Locale.ROOT, "TRACE %.0fs %d ops/s%n", (System.nanoTime() - start) / 1e9,
            now - last);
        last = now;
      }
    }, "bench-trace");
    t.setDaemon(true);
    t.start();
  }

  private static void sleepChecking(long ms, AtomicReference<Throwable> failure)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    long left;
    while ((left = deadline - System.nanoTime()) > 0) {
      if (failure.get() != null) {
        throw new IllegalStateException("worker failed", failure.get());
      }
      TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
    }
  }

  /** The workers plus the client's own I/O threads (Lettuce: lettuce-*EventLoop-*). */
  private static long[] measuredThreadIds(Thread[] workers) {
    List<Long> ids = new ArrayList<>();
    for (Thread t : workers) {
      ids.add(t.getId());
    }
    for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      if (info != null && info.getThreadName().startsWith("lettuce-")) {
        ids.add(info.getThreadId());
      }
    }
    return ids.stream().mapToLong(Long::longValue).toArray();
  }

  /** CPU time (user + kernel) of these threads; -1 when the JVM does not measure thread CPU. */
  private static long threadsCpuNanos(long[] ids) {
    if (!THREADS.isThreadCpuTimeSupported() || !THREADS.isThreadCpuTimeEnabled()) {
      return -1;
    }
    long total = 0;
    for (long id : ids) {
      long t = THREADS.getThreadCpuTime(id);
      if (t > 0) {
        total += t;
      }
    }
    return total;
  }

  private static Map<Long, Long> allocatedByThread() {
    long[] ids = THREADS.getAllThreadIds();
    long[] bytes = THREADS.getThreadAllocatedBytes(ids);
    Map<Long, Long> out = new HashMap<>();
    for (int i = 0; i < ids.length; i++) {
      if (bytes[i] >= 0) {
        out.put(ids[i], bytes[i]);
      }
    }
    return out;
  }

  /** Allocation between two snapshots by the threads alive at the second one. */
  private static long delta(Map<Long, Long> before, Map<Long, Long> after) {
    long total = 0;
    for (Map.Entry<Long, Long> e : after.entrySet()) {
      total += e.getValue() - before.getOrDefault(e.getKey(), 0L);
    }
    return total;
  }

  private static long sum(long[] values) {
    long s = 0;
    for (long v : values) {
      if (v > 0) {
        s += v;
      }
    }
    return s;
  }

  private static long sum(AtomicLong[] counters) {
    long s = 0;
    for (AtomicLong c : counters) {
      s += c.get();
    }
    return s;
  }

  /** VmHWM: the peak resident set size of this JVM so far, in kB (-1 when unavailable). */
  static long peakRssKb() {
    try {
      for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return -1;
  }

  private static String[] keys(String prefix, int n) {
    String[] k = new String[n];
    for (int i = 0; i < n; i++) {
      k[i] = prefix + i;
    }
    return k;
  }
}
