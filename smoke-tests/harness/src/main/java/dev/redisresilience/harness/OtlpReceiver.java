package dev.redisresilience.harness;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse;
import io.opentelemetry.proto.collector.logs.v1.LogsServiceGrpc;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;

/**
 * An in-process OTLP receiver: http/protobuf ({@code /v1/traces}, {@code /v1/metrics},
 * {@code /v1/logs}) and gRPC, on loopback. Decodes the real OTLP protobuf messages into plain
 * records that tests can assert on exactly.
 */
public final class OtlpReceiver implements AutoCloseable {
  static {
    // Collectors answer with TCP_NODELAY (Go sets it on every connection); the JDK's HttpServer
    // does not unless told, so its response body waits for the ACK of the headers, which the
    // client delays by 40 ms: one request per 40 ms per connection, and exporters that queue
    // spans faster than that drop them. Read once, when the first HttpServer is made.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private final HttpServer http;
  private final Server grpc;
  private final ExecutorService httpExecutor = Executors.newFixedThreadPool(2, r -> {
    Thread t = new Thread(r, "otlp-receiver-http");
    t.setDaemon(true);
    return t;
  });
  private final List<ReceivedSpan> spans = new CopyOnWriteArrayList<>();
  private final List<ReceivedMetric> metrics = new CopyOnWriteArrayList<>();
  private final List<ReceivedLog> logs = new CopyOnWriteArrayList<>();
  private final AtomicLong httpRequests = new AtomicLong();
  private final AtomicLong grpcRequests = new AtomicLong();
  private final AtomicLong spansReceived = new AtomicLong();
  private volatile boolean discard;
  private volatile java.util.function.Consumer<ReceivedSpan> spanListener;

  private OtlpReceiver(boolean withGrpc) {
    try {
      http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
      http.createContext("/v1/traces", ex -> handle(ex, Kind.TRACES));
      http.createContext("/v1/metrics", ex -> handle(ex, Kind.METRICS));
      http.createContext("/v1/logs", ex -> handle(ex, Kind.LOGS));
      http.setExecutor(httpExecutor);
      http.start();
      grpc = withGrpc
          ? NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
              .addService(new TraceService())
              .addService(new MetricsService())
              .addService(new LogsService())
              .build()
              .start()
          : null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** http/protobuf and gRPC. */
  public static OtlpReceiver start() {
    return new OtlpReceiver(true);
  }

  /** http/protobuf only (faster to start). */
  public static OtlpReceiver startHttpOnly() {
    return new OtlpReceiver(false);
  }

  /** Hands every span to {@code listener} instead of keeping it (long-running demos). */
  public OtlpReceiver onSpan(java.util.function.Consumer<ReceivedSpan> listener) {
    spanListener = listener;
    return this;
  }

  /** Accept and count, but keep nothing (a sink for benchmarks and long demos). */
  public OtlpReceiver discarding() {
    discard = true;
    return this;
  }

  public String httpEndpoint() {
    return "http://127.0.0.1:" + http.getAddress().getPort();
  }

  public String grpcEndpoint() {
    if (grpc == null) {
      throw new IllegalStateException("started without gRPC");
    }
    return "http://127.0.0.1:" + grpc.getPort();
  }

  /** Spans received so far, over both protocols, also when discarding. */
  public long spansReceived() {
    return spansReceived.get();
  }

  public long httpRequests() {
    return httpRequests.get();
  }

  public long grpcRequests() {
    return grpcRequests.get();
  }

  public List<ReceivedSpan> spans() {
    return Collections.unmodifiableList(new ArrayList<>(spans));
  }

  public List<ReceivedSpan> spans(Predicate<ReceivedSpan> filter) {
    List<ReceivedSpan> out = new ArrayList<>();
    for (ReceivedSpan s : spans) {
      if (filter.test(s)) {
        out.add(s);
      }
    }
    return out;
  }

  /** Every metric export received, oldest first. */
  public List<ReceivedMetric> metricExports() {
    return Collections.unmodifiableList(new ArrayList<>(metrics));
  }

  public List<ReceivedLog> logs() {
    return Collections.unmodifiableList(new ArrayList<>(logs));
  }

  /**
   * The newest point of every series of a metric (cumulative temporality: the totals), keyed by
   * the point's attributes.
   */
  public List<MetricPoint> latestPoints(String metricName) {
    // a series is (scope, attributes): two instrumentation scopes may report the same attributes
    Map<List<Object>, MetricPoint> latest = new LinkedHashMap<>();
    for (ReceivedMetric m : metrics) {
      if (!m.name.equals(metricName)) {
        continue;
      }
      for (MetricPoint p : m.points) {
        List<Object> key = java.util.Arrays.asList(m.scope, p.attributes);
        MetricPoint prev = latest.get(key);
        if (prev == null || p.timeUnixNano >= prev.timeUnixNano) {
          latest.put(key, p);
        }
      }
    }
    return new ArrayList<>(latest.values());
  }

  /** Sum over the latest series that match. For histograms: count; for sums: value. */
  public double total(String metricName, Predicate<Map<String, Object>> attributes) {
    double total = 0;
    for (MetricPoint p : latestPoints(metricName)) {
      if (attributes.test(p.attributes)) {
        total += p.isHistogram() ? p.count : p.value;
      }
    }
    return total;
  }

  public void clear() {
    spans.clear();
    metrics.clear();
    logs.clear();
  }

  /** Polls until {@code condition} holds; fails with {@code message} after {@code timeout}. */
  public static void await(Duration timeout, String message, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for: " + message);
      }
      try {
        Thread.sleep(25);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  private enum Kind {
    TRACES,
    METRICS,
    LOGS
  }

  private void handle(HttpExchange ex, Kind kind) throws IOException {
    try {
      httpRequests.incrementAndGet();
      if (!"POST".equals(ex.getRequestMethod())) {
        ex.sendResponseHeaders(405, -1);
        return;
      }
      InputStream in = ex.getRequestBody();
      if ("gzip".equalsIgnoreCase(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
        in = new GZIPInputStream(in);
      }
      byte[] body = in.readAllBytes();
      byte[] response;
      switch (kind) {
        case TRACES:
          accept(ExportTraceServiceRequest.parseFrom(body));
          response = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
          break;
        case METRICS:
          accept(ExportMetricsServiceRequest.parseFrom(body));
          response = ExportMetricsServiceResponse.getDefaultInstance().toByteArray();
          break;
        default:
          accept(ExportLogsServiceRequest.parseFrom(body));
          response = ExportLogsServiceResponse.getDefaultInstance().toByteArray();
      }
      ex.getResponseHeaders().add("Content-Type", "application/x-protobuf");
      ex.sendResponseHeaders(200, response.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(response);
      }
    } catch (RuntimeException | IOException e) {
      ex.sendResponseHeaders(400, -1);
    } finally {
      ex.close();
    }
  }

  private void accept(ExportTraceServiceRequest req) {
    long n = 0;
    for (ResourceSpans rs : req.getResourceSpansList()) {
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        n += ss.getSpansCount();
      }
    }
    spansReceived.addAndGet(n);
    if (discard) {
      return;
    }
    for (ResourceSpans rs : req.getResourceSpansList()) {
      Map<String, Object> resource = attributes(rs.getResource().getAttributesList());
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (io.opentelemetry.proto.trace.v1.Span s : ss.getSpansList()) {
          ReceivedSpan span = new ReceivedSpan(s, ss.getScope().getName(), resource);
          java.util.function.Consumer<ReceivedSpan> l = spanListener;
          if (l != null) {
            l.accept(span);
          } else {
            spans.add(span);
          }
        }
      }
    }
  }

  private void accept(ExportMetricsServiceRequest req) {
    if (discard) {
      return;
    }
    for (ResourceMetrics rm : req.getResourceMetricsList()) {
      Map<String, Object> resource = attributes(rm.getResource().getAttributesList());
      for (ScopeMetrics sm : rm.getScopeMetricsList()) {
        for (Metric m : sm.getMetricsList()) {
          metrics.add(new ReceivedMetric(m, sm.getScope().getName(), resource));
        }
      }
    }
  }

  private void accept(ExportLogsServiceRequest req) {
    if (discard) {
      return;
    }
    for (ResourceLogs rl : req.getResourceLogsList()) {
      Map<String, Object> resource = attributes(rl.getResource().getAttributesList());
      for (ScopeLogs sl : rl.getScopeLogsList()) {
        for (LogRecord r : sl.getLogRecordsList()) {
          logs.add(new ReceivedLog(r, sl.getScope().getName(), resource));
        }
      }
    }
  }

  static Map<String, Object> attributes(List<KeyValue> kvs) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (KeyValue kv : kvs) {
      out.put(kv.getKey(), value(kv.getValue()));
    }
    return Collections.unmodifiableMap(out);
  }

  static Object value(AnyValue v) {
    switch (v.getValueCase()) {
      case STRING_VALUE:
        return v.getStringValue();
      case INT_VALUE:
        return v.getIntValue();
      case DOUBLE_VALUE:
        return v.getDoubleValue();
      case BOOL_VALUE:
        return v.getBoolValue();
      case ARRAY_VALUE:
        List<Object> list = new ArrayList<>();
        for (AnyValue e : v.getArrayValue().getValuesList()) {
          list.add(value(e));
        }
        return list;
      case KVLIST_VALUE:
        return attributes(v.getKvlistValue().getValuesList());
      case BYTES_VALUE:
        return v.getBytesValue().toByteArray();
      default:
        return null;
    }
  }

  @Override
  public void close() {
    http.stop(0);
    httpExecutor.shutdownNow();
    if (grpc != null) {
      grpc.shutdownNow();
      try {
        grpc.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private final class TraceService extends TraceServiceGrpc.TraceServiceImplBase {
    @Override
    public void export(
        ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> out) {
      grpcRequests.incrementAndGet();
      accept(request);
      out.onNext(ExportTraceServiceResponse.getDefaultInstance());
      out.onCompleted();
    }
  }

  private final class MetricsService extends MetricsServiceGrpc.MetricsServiceImplBase {
    @Override
    public void export(
        ExportMetricsServiceRequest request, StreamObserver<ExportMetricsServiceResponse> out) {
      grpcRequests.incrementAndGet();
      accept(request);
      out.onNext(ExportMetricsServiceResponse.getDefaultInstance());
      out.onCompleted();
    }
  }

  private final class LogsService extends LogsServiceGrpc.LogsServiceImplBase {
    @Override
    public void export(
        ExportLogsServiceRequest request, StreamObserver<ExportLogsServiceResponse> out) {
      grpcRequests.incrementAndGet();
      accept(request);
      out.onNext(ExportLogsServiceResponse.getDefaultInstance());
      out.onCompleted();
    }
  }
}
