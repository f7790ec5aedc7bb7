package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.tools.attach.VirtualMachine;
import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.Ports;
import dev.redisresilience.harness.RedisServer;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import org.junit.jupiter.api.Test;

/**
 * Issue 12, memory: "a collector that is down for 10 minutes leaves heap and RSS flat". The demo
 * app (2 Jedis pool workers + 1 Lettuce worker at a bounded rate, a few thousand commands a
 * second) runs with the packaged agent at its defaults, exporting http/protobuf to (a) a port
 * nobody listens on and (b) a blackhole that accepts TCP connections, reads and never answers.
 * Both JVMs run at the same time. The test attaches to each (JMX over the attach API, once, before
 * the warm-up ends), and every sampling interval forces a GC ({@code MemoryMXBean.gc()}) and reads
 * heap used right after it, and reads VmRSS from {@code /proc/<pid>/status}. After the warm-up, the
 * median of the last third of the samples may exceed the median of the first third by less than
 * 8 MiB (heap after GC) and 32 MiB (RSS).
 *
 * <p>Duration: {@code -Dcollector.down.seconds=90} (default, for CI) or
 * {@code -Dcollector.down.minutes=10} (the figure). Figures are printed and appended to
 * {@code target/collector-down-memory.txt}.
 */
class CollectorDownMemoryIT {
  static final long HEAP_SLACK = 8L << 20;
  static final long RSS_SLACK = 32L << 20;
  /** Commands per second per worker of the demo app (3 workers). */
  static final int RATE_PER_WORKER = 1000;

  /** One app JVM and what was sampled from it. */
  static final class Case {
    final String name;
    final String endpoint;
    final String marker = UUID.randomUUID().toString();
    ForkedJvm jvm;
    long pid;
    JMXConnector jmx;
    MemoryMXBean memory;
    final List<long[]> samples = new ArrayList<>(); // {millis since start, heapAfterGc, rss}

    Case(String name, String endpoint) {
      this.name = name;
      this.endpoint = endpoint;
    }
  }

  @Test
  void heapAndRssStayFlatWhileTheCollectorIsDown() throws Exception {
    long totalSeconds = durationSeconds();
    long warmupMs = Math.max(15_000, totalSeconds * 1000 / 5);
    long intervalMs = Math.max(2_000, totalSeconds * 1000 / 40);
    try (RedisServer redis = RedisServer.start();
        Blackhole blackhole = new Blackhole()) {
      List<Case> cases = List.of(
          new Case("refused", "http://127.0.0.1:" + Ports.free()),
          new Case("blackhole", "http://127.0.0.1:" + blackhole.port()));
      try {
        for (Case c : cases) {
          c.jvm = SmokeSupport.plainApp("demo-app", "dev.redisresilience.apps.demo.DemoApp")
              .name("collector-down-" + c.name)
              .agent(ForkedJvm.agentJar())
              .sysProp("collector.down.case", c.marker) // to find the pid
              .env("OTEL_SERVICE_NAME", "collector-down-" + c.name)
              .env("OTEL_EXPORTER_OTLP_ENDPOINT", c.endpoint)
              .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
              // metrics and logs fail to export every 5 s too, not only spans
              .env("OTEL_METRIC_EXPORT_INTERVAL", "5000")
              .args("127.0.0.1", String.valueOf(redis.port()), String.valueOf(totalSeconds),
                  String.valueOf(RATE_PER_WORKER))
              .build()
              .start();
        }
        long t0 = System.nanoTime();
        for (Case c : cases) {
          c.pid = pidOf(c.marker, Duration.ofSeconds(20));
          attach(c, Duration.ofSeconds(30));
        }
        long end = t0 + TimeUnit.SECONDS.toNanos(totalSeconds) - TimeUnit.SECONDS.toNanos(2);
        long next = t0 + TimeUnit.MILLISECONDS.toNanos(warmupMs);
        while (next < end) {
          long sleep = next - System.nanoTime();
          if (sleep > 0) {
            TimeUnit.NANOSECONDS.sleep(sleep);
          }
          for (Case c : cases) {
            c.memory.gc();
            long heap = c.memory.getHeapMemoryUsage().getUsed();
            c.samples.add(new long[] {
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), heap, rssBytes(c.pid)});
          }
          next += TimeUnit.MILLISECONDS.toNanos(intervalMs);
        }
        List<String> report = new ArrayList<>();
        report.add(String.format(Locale.ROOT, "%s: collector down for %d s, app at %d commands/s"
            + " (demo-app, 2 Jedis + 1 Lettuce workers), warm-up %d s, a sample every %d s",
            Instant.now(), totalSeconds, 3 * RATE_PER_WORKER, warmupMs / 1000, intervalMs / 1000));
        for (Case c : cases) {
          closeQuietly(c.jmx);
          // the agent's exit with an unreachable collector must be bounded too
          ForkedJvm.Result r = c.jvm.await(Duration.ofSeconds(90)).assertSuccess();
          String done = r.linesStartingWith("demo-app:").get(0).trim();
          java.util.regex.Matcher m =
              java.util.regex.Pattern.compile("(\\d+) calls succeeded").matcher(done);
          assertThat(m.find()).as(done).isTrue();
          long ok = Long.parseLong(m.group(1));
          report.add(figures(c) + "; demo-app: " + done + " (" + (ok / totalSeconds) + "/s)");
          // the app keeps its pace although nothing can be exported: at least half the offered
          // rate (its own WRONGTYPE "bug" backs off 50 ms per failure, about a quarter of the
          // time of the Jedis workers, with or without an agent)
          assertThat(ok).as(c.name + ": " + done)
              .isGreaterThan((long) (0.5 * 3 * RATE_PER_WORKER * totalSeconds));
        }
        report.forEach(System.out::println);
        Files.write(Paths.get("target", "collector-down-memory.txt"), report,
            StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        for (Case c : cases) {
          assertThat(c.samples.size()).as(c.name + " samples").isGreaterThanOrEqualTo(6);
          assertThat(growth(c, 1)).as(c.name + ": heap after GC, last third - first third ("
              + figures(c) + ")").isLessThan(HEAP_SLACK);
          assertThat(growth(c, 2)).as(c.name + ": RSS, last third - first third ("
              + figures(c) + ")").isLessThan(RSS_SLACK);
        }
      } finally {
        for (Case c : cases) {
          closeQuietly(c.jmx);
          if (c.jvm != null) {
            c.jvm.kill();
          }
        }
      }
    }
  }

  static long durationSeconds() {
    String minutes = System.getProperty("collector.down.minutes");
    if (minutes != null && !minutes.isBlank()) {
      return Math.round(Double.parseDouble(minutes) * 60);
    }
    return Long.parseLong(System.getProperty("collector.down.seconds", "90"));
  }

  /** Median of the last third minus median of the first third, of column {@code col}. */
  static long growth(Case c, int col) {
    return median(third(c, col, 2)) - median(third(c, col, 0));
  }

  static List<Long> third(Case c, int col, int which) {
    int n = c.samples.size();
    int size = Math.max(1, n / 3);
    int from = which == 0 ? 0 : n - size;
    List<Long> out = new ArrayList<>();
    for (int i = from; i < from + size; i++) {
      out.add(c.samples.get(i)[col]);
    }
    return out;
  }

  static long median(List<Long> values) {
    List<Long> v = new ArrayList<>(values);
    v.sort(null);
    int n = v.size();
    return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
  }

  static String figures(Case c) {
    long heapMin = Long.MAX_VALUE;
    long heapMax = 0;
    long rssMin = Long.MAX_VALUE;
    long rssMax = 0;
    for (long[] s : c.samples) {
      heapMin = Math.min(heapMin, s[1]);
      heapMax = Math.max(heapMax, s[1]);
      rssMin = Math.min(rssMin, s[2]);
      rssMax = Math.max(rssMax, s[2]);
    }
    return String.format(Locale.ROOT, "%s: %d samples; heap after GC %.1f -> %.1f MiB (median"
        + " of first -> last third, growth %+.1f MiB, range %.1f-%.1f); RSS %.1f -> %.1f MiB"
        + " (growth %+.1f MiB, range %.1f-%.1f)", c.name, c.samples.size(),
        mib(median(third(c, 1, 0))), mib(median(third(c, 1, 2))), mib(growth(c, 1)),
        mib(heapMin), mib(heapMax), mib(median(third(c, 2, 0))), mib(median(third(c, 2, 2))),
        mib(growth(c, 2)), mib(rssMin), mib(rssMax));
  }

  static double mib(long bytes) {
    return bytes / 1024.0 / 1024.0;
  }

  /** The forked JVM whose command line carries {@code marker}. */
  static long pidOf(String marker, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      Optional<ProcessHandle> p = ProcessHandle.current().descendants()
          .filter(h -> cmdline(h.pid()).contains(marker)).findFirst();
      if (p.isPresent()) {
        return p.get().pid();
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no forked JVM with " + marker);
  }

  static String cmdline(long pid) {
    try {
      return new String(Files.readAllBytes(Paths.get("/proc", String.valueOf(pid), "cmdline")),
          StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  static long rssBytes(long pid) throws IOException {
    for (String line : Files.readAllLines(Paths.get("/proc", String.valueOf(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IOException("no VmRSS for " + pid);
  }

  /** JMX through the attach API's local management agent (retried while the JVM starts). */
  static void attach(Case c, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        VirtualMachine vm = VirtualMachine.attach(String.valueOf(c.pid));
        String address;
        try {
          address = vm.startLocalManagementAgent();
        } finally {
          vm.detach();
        }
        c.jmx = JMXConnectorFactory.connect(new JMXServiceURL(address));
        MBeanServerConnection conn = c.jmx.getMBeanServerConnection();
        c.memory = ManagementFactory.newPlatformMXBeanProxy(conn,
            ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
        return;
      } catch (Exception e) {
        last = e;
        Thread.sleep(500);
      }
    }
    throw new AssertionError("could not attach to " + c.name + " (pid " + c.pid + ")", last);
  }

  static void closeQuietly(JMXConnector jmx) {
    if (jmx != null) {
      try {
        jmx.close();
      } catch (IOException e) {
        // the JVM has exited
      }
    }
  }

  /** Accepts TCP connections, reads whatever arrives and never answers. */
  static final class Blackhole implements AutoCloseable {
    private final ServerSocket server;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    Blackhole() throws IOException {
      server = new ServerSocket();
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 128);
      Thread acceptor = new Thread(this::acceptLoop, "blackhole-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void acceptLoop() {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          sockets.add(s);
          Thread reader = new Thread(() -> drain(s), "blackhole-read");
          reader.setDaemon(true);
          reader.start();
        } catch (IOException e) {
          return; // closed
        }
      }
    }

    private void drain(Socket s) {
      byte[] buf = new byte[8192];
      try (InputStream in = s.getInputStream()) {
        while (in.read(buf) >= 0) {
          // discard, never answer
        }
      } catch (IOException e) {
        // closed
      } finally {
        sockets.remove(s);
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : sockets) {
        s.close();
      }
    }
  }
}
