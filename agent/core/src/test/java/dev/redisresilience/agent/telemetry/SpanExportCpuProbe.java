package dev.redisresilience.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * A probe, not a test (its name keeps it out of the default run; figures, no timed assertion):
 * the export CPU per span of the span pipeline over http/protobuf, at a fixed span rate, against a
 * collector-like local sink (decodes each request, answers 200 at once, TCP_NODELAY as collectors
 * do). Export CPU = CPU time of the agent's export thread and the sender's threads (JDK HttpClient
 * selector and the JDK sender's executor, or OkHttp's dispatcher and connection threads), read
 * with ThreadMXBean over a measured window after a warm-up, divided by the spans the sink got.
 *
 * <pre>
 * mvn -B -o test -pl agent/core -Dtest=SpanExportCpuProbe -Dprobe.sender=agent|jdk|okhttp \
 *     [-Dprobe.rate=60000] [-Dprobe.seconds=20] [-Dprobe.queue=2048] [-Dprobe.batch=512]
 * </pre>
 */
class SpanExportCpuProbe {
  private static final InstrumentationScopeInfo SCOPE = InstrumentationScopeInfo.create("probe");
  private static final Map<Long, String> names = new java.util.concurrent.ConcurrentHashMap<>();
  private static final String[] EXPORT_THREADS = {
    "redis-resilience-agent-span-export", "redis-resilience-agent-otlp-http", "jdkhttp", "HttpClient-", "OkHttp", "okhttp"
  };

  @Test
  void exportCpuPerSpan() throws Exception {
    String sender = System.getProperty("probe.sender", "agent");
    int rate = Integer.getInteger("probe.rate", 60_000);
    int seconds = Integer.getInteger("probe.seconds", 20);
    int warmup = Integer.getInteger("probe.warmup", 5);
    int queue = Integer.getInteger("probe.queue", 2048);
    int batch = Integer.getInteger("probe.batch", 512);
    int ceiling = Integer.getInteger("probe.ceiling", 4 * batch); // the agent's default: adaptive
    System.setProperty(
        "io.opentelemetry.sdk.common.export.HttpSenderProvider",
        sender.equals("okhttp")
            ? "io.opentelemetry.exporter.sender.okhttp.internal.OkHttpHttpSenderProvider"
            : sender.equals("jdk")
                ? "io.opentelemetry.exporter.sender.jdk.internal.JdkHttpSenderProvider"
                : "dev.redisresilience.agent.telemetry.http.OtlpHttpSenderProvider");
    System.setProperty("sun.net.httpserver.nodelay", "true");

    AtomicLong received = new AtomicLong();
    AtomicLong requests = new AtomicLong();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    ExecutorService handlers = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "probe-sink");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(handlers);
    server.createContext("/v1/traces", ex -> {
      try (InputStream in = ex.getRequestBody()) {
        ExportTraceServiceRequest req = ExportTraceServiceRequest.parseFrom(in.readAllBytes());
        long n = 0;
        for (var rs : req.getResourceSpansList()) {
          for (var ss : rs.getScopeSpansList()) {
            n += ss.getSpansCount();
          }
        }
        received.addAndGet(n);
        requests.incrementAndGet();
      }
      ex.getResponseHeaders().add("Content-Type", "application/x-protobuf");
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    server.start();
    OtlpHttpSpanExporter exporter = OtlpHttpSpanExporter.builder()
        .setEndpoint("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/traces")
        .build();
    Resource resource = Resource.getDefault().merge(Resource.create(
        Attributes.of(AttributeKey.stringKey("service.name"), "probe")));
    // a fixed batch size through the constructor every version of the pipeline has (-Dprobe.ceiling
    // equal to -Dprobe.batch: comparable with the pipeline before adaptive batches)
    SpanPipeline p = ceiling == batch
        ? new SpanPipeline(Collections.singletonList(exporter), resource, null,
            queue, batch, TimeUnit.SECONDS.toNanos(5), TimeUnit.SECONDS.toNanos(30))
        : SpanPipeline.class
            .getConstructor(java.util.List.class, Resource.class, io.opentelemetry.sdk.trace.samplers.Sampler.class,
                int.class, int.class, int.class, long.class, long.class)
            .newInstance(Collections.singletonList(exporter), resource, null,
                queue, batch, ceiling, TimeUnit.SECONDS.toNanos(5), TimeUnit.SECONDS.toNanos(30));
    Attributes base = Attributes.builder()
        .put("db.system.name", "redis")
        .put("db.operation.name", "GET")
        .put("server.address", "127.0.0.1")
        .put("server.port", 6379L)
        .put("db.namespace", "0")
        .build();
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    com.sun.management.ThreadMXBean alloc = (com.sun.management.ThreadMXBean) mx;
    try {
      long perMilli = Math.max(1, rate / 1000);
      long start = System.nanoTime();
      long end = start + TimeUnit.SECONDS.toNanos(warmup + seconds);
      long measureAt = start + TimeUnit.SECONDS.toNanos(warmup);
      Map<Long, long[]> before = null;
      long receivedBefore = 0;
      long requestsBefore = 0;
      long droppedBefore = 0;
      long id = 0;
      long tick = start;
      while (tick < end) {
        for (int i = 0; i < perMilli; i++) {
          id++;
          long t = System.currentTimeMillis() * 1_000_000L;
          p.submit(new RecordedSpan("GET 127.0.0.1:6379", 0x1234L, id, id, t - 30_000, t, base,
              "GET key:" + (id & 1023), -1, 1, null, null, null, null, SCOPE, resource));
        }
        tick += 1_000_000L;
        long now = System.nanoTime();
        if (before == null && now >= measureAt) {
          before = exportThreads(mx, alloc);
          receivedBefore = received.get();
          requestsBefore = requests.get();
          droppedBefore = p.dropped();
        }
        if (tick > now) {
          LockSupport.parkNanos(tick - now);
        }
      }
      Map<Long, long[]> after = exportThreads(mx, alloc);
      long spans = received.get() - receivedBefore;
      long cpu = 0;
      long bytes = 0;
      Map<String, Long> byName = new java.util.TreeMap<>();
      for (Map.Entry<Long, long[]> e : after.entrySet()) {
        long[] b = before.getOrDefault(e.getKey(), new long[2]);
        cpu += e.getValue()[0] - b[0];
        bytes += e.getValue()[1] - b[1];
        byName.merge(names.get(e.getKey()), e.getValue()[0] - b[0], Long::sum);
      }
      StringBuilder groups = new StringBuilder();
      for (Map.Entry<String, Long> g : byName.entrySet()) {
        groups.append(String.format(Locale.ROOT, " %s=%.3f", g.getKey(), g.getValue() / 1000.0 / Math.max(1, received.get() - receivedBefore)));
      }
      System.out.println("PROBE cpu us/span by thread:" + groups);
      p.flush(10_000);
      System.out.printf(Locale.ROOT,
          "PROBE sender=%s rate=%d/s window=%ds queue=%d batch=%d..%d: spans=%d requests=%d (%.1f/s)"
              + " export-cpu=%.3f us/span alloc=%.1f B/span dropped(window)=%d dropped(total)=%d"
              + " export-threads=%d%n",
          sender, rate, seconds, queue, batch, ceiling, spans, requests.get() - requestsBefore,
          (requests.get() - requestsBefore) / (double) seconds, cpu / 1000.0 / Math.max(1, spans),
          bytes / (double) Math.max(1, spans), p.dropped() - droppedBefore, p.dropped(), after.size());
      assertThat(spans).isPositive();
    } finally {
      p.shutdown(5000);
      server.stop(0);
      handlers.shutdownNow();
    }
  }

  /** CPU nanoseconds and allocated bytes of each live export or sender thread, by thread id. */
  private static Map<Long, long[]> exportThreads(ThreadMXBean mx, com.sun.management.ThreadMXBean alloc) {
    Map<Long, long[]> out = new HashMap<>();
    for (ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
      if (t == null) {
        continue;
      }
      for (String prefix : EXPORT_THREADS) {
        if (t.getThreadName().startsWith(prefix)) {
          names.put(t.getThreadId(), t.getThreadName().replaceAll("-?\\d+$", ""));
          out.put(t.getThreadId(), new long[] {
            mx.getThreadCpuTime(t.getThreadId()), alloc.getThreadAllocatedBytes(t.getThreadId())
          });
          break;
        }
      }
    }
    return out;
  }

  /** The agent's own part alone: OTLP encoding of 512-span batches, CPU and allocation per span. */
  @Test
  void encodeCpuPerSpan() throws Exception {
    int seconds = Integer.getInteger("probe.seconds", 20);
    Resource resource = Resource.getDefault();
    Attributes base = Attributes.builder()
        .put("db.system.name", "redis")
        .put("db.operation.name", "GET")
        .put("server.address", "127.0.0.1")
        .put("server.port", 6379L)
        .put("db.namespace", "0")
        .build();
    java.util.List<RecordedSpan> batch = new java.util.ArrayList<>();
    for (int i = 0; i < 512; i++) {
      long t = System.currentTimeMillis() * 1_000_000L;
      batch.add(new RecordedSpan("GET 127.0.0.1:6379", 0x1234L, i + 1, i + 1, t - 30_000, t, base,
          "GET key:" + i, -1, 1, null, null, null, null, SCOPE, resource));
    }
    OtlpSpanEncoder encoder = new OtlpSpanEncoder();
    OtlpSpanEncoder.ProtoBuffer buffer = new OtlpSpanEncoder.ProtoBuffer(1 << 16); // reused, as the pipeline does
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    com.sun.management.ThreadMXBean alloc = (com.sun.management.ThreadMXBean) mx;
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(Math.max(2, seconds / 2));
    long spans = 0;
    long bytes = 0;
    long cpu0 = 0;
    long alloc0 = 0;
    boolean warm = false;
    long warmAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (System.nanoTime() < end) {
      encoder.encode(batch, buffer);
      bytes += buffer.size();
      if (!warm && System.nanoTime() > warmAt) {
        warm = true;
        cpu0 = mx.getCurrentThreadCpuTime();
        alloc0 = alloc.getThreadAllocatedBytes(Thread.currentThread().getId());
        spans = 0;
      } else if (warm) {
        spans += batch.size();
      }
    }
    long cpu = mx.getCurrentThreadCpuTime() - cpu0;
    long allocated = alloc.getThreadAllocatedBytes(Thread.currentThread().getId()) - alloc0;
    System.out.printf(Locale.ROOT, "PROBE encode: %.3f us/span, %.1f B/span allocated, %d B/request%n",
        cpu / 1000.0 / spans, allocated / (double) spans, encoder.encode(batch).length);
    assertThat(bytes).isPositive();
  }
}
