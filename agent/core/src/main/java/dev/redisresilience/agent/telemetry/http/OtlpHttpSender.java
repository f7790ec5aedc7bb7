package dev.redisresilience.agent.telemetry.http;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.Compressor;
import io.opentelemetry.sdk.common.export.HttpResponse;
import io.opentelemetry.sdk.common.export.HttpSender;
import io.opentelemetry.sdk.common.export.HttpSenderConfig;
import io.opentelemetry.sdk.common.export.MessageWriter;
import io.opentelemetry.sdk.common.export.ProxyOptions;
import io.opentelemetry.sdk.common.export.RetryPolicy;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Proxy;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocketFactory;

/**
 * The agent's OTLP http/protobuf sender: HTTP/1.1 POSTs over a few persistent connections, one
 * request per connection at a time, with the SDK's retry policy (attempts, backoff with jitter,
 * 429/502/503/504 and I/O failures retried, all within the export timeout). It replaces OkHttp and
 * java.net.http for this one job because both cost several microseconds of CPU per exported span
 * on the benchmark host (see the README's overhead section): a request here is the body copied
 * into a reused buffer, one socket write and a small response read.
 *
 * <p>Configured entirely by the SDK's {@link HttpSenderConfig} (endpoint, headers, compression,
 * timeouts, TLS context and protocols, proxy, executor), so OTEL_EXPORTER_OTLP_* settings keep
 * their meaning. An HTTP proxy gets absolute-form requests (http) or a CONNECT tunnel (https); a
 * SOCKS proxy is handed to the JDK's socket. Every exchange has a hard deadline (the export
 * timeout): a collector that accepts and stops reading gets its socket closed by a shared reaper
 * thread, so an export never outlives its timeout and threads never pile up.
 */
final class OtlpHttpSender implements HttpSender {
  private static final Set<Integer> RETRYABLE_STATUS = Set.of(429, 502, 503, 504);
  // the sender frames the request itself: these from the configuration would break it
  private static final Set<String> RESERVED_HEADERS =
      Set.of(
          "content-length", "host", "content-type", "content-encoding", "transfer-encoding",
          "connection", "expect", "upgrade", "te", "keep-alive", "accept-encoding");
  // collectors close idle keep-alive connections (the OTel collector after 90 s by default): a
  // connection idle longer than this is closed rather than reused
  private static final long MAX_IDLE_NANOS = TimeUnit.SECONDS.toNanos(30);
  private static final long DEFAULT_MAX_BODY = 4L << 20;
  private static final int MAX_IDLE_CONNECTIONS = 8;
  private static final int MAX_POOLED_BODIES = 8;
  private static final int MAX_POOLED_BODY_BYTES = 4 << 20; // a larger buffer is not kept
  private static final AtomicInteger THREADS = new AtomicInteger();
  /** Closes the socket of an exchange that reached its deadline (one daemon thread, shared). */
  private static final java.util.concurrent.ScheduledThreadPoolExecutor REAPER = reaper();

  private final URI uri;
  private final String target; // the request target: path and query
  private final String hostHeader;
  private final String contentType;
  private final Compressor compressor;
  private final long timeoutNanos;
  private final int connectTimeoutMillis;
  private final Supplier<Map<String, List<String>>> headers;
  private final RetryPolicy retry;
  private final Predicate<IOException> retryableError;
  private final ProxyOptions proxyOptions;
  private final SSLSocketFactory tls;
  private final List<String> tlsProtocols;
  private final ExecutorService executor;
  private final boolean ownExecutor;
  private final long maxBody;
  private final ConcurrentLinkedDeque<HttpConnection> idle = new ConcurrentLinkedDeque<>();
  private final AtomicInteger idleCount = new AtomicInteger();
  private final java.util.concurrent.ConcurrentLinkedQueue<Body> bodies =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private volatile boolean shutdown;

  OtlpHttpSender(HttpSenderConfig config) {
    this.uri = config.getEndpoint();
    String scheme = uri.getScheme();
    if (!"http".equalsIgnoreCase(scheme) && !"https".equalsIgnoreCase(scheme)) {
      throw new IllegalArgumentException(
          "OTLP endpoint must be http or https: " + HttpConnection.redacted(uri));
    }
    String host = HttpConnection.hostOf(uri);
    int port = HttpConnection.portOf(uri);
    this.proxyOptions = config.getProxyOptions();
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    this.target = path + (uri.getRawQuery() != null ? "?" + uri.getRawQuery() : "");
    this.hostHeader = HttpConnection.hostHeader(uri);
    this.contentType = config.getContentType();
    this.compressor = config.getCompressor();
    this.timeoutNanos = positive(config.getTimeout().toNanos(), TimeUnit.SECONDS.toNanos(10));
    this.connectTimeoutMillis =
        (int) Math.min(Integer.MAX_VALUE, positive(config.getConnectTimeout().toMillis(), 10_000));
    this.headers = config.getHeadersSupplier();
    this.retry = config.getRetryPolicy();
    Predicate<IOException> p = retry == null ? null : retry.getRetryExceptionPredicate();
    // as OpenTelemetry's senders: any I/O failure is worth another attempt except a TLS one
    this.retryableError =
        p != null ? p : e -> !(e instanceof SSLException) && !(e instanceof java.net.ProtocolException);
    this.tls = "https".equalsIgnoreCase(scheme) ? tlsFactory(config.getSslContext()) : null;
    this.tlsProtocols = config.getEnabledProtocols();
    ExecutorService given = config.getExecutorService();
    this.ownExecutor = given == null;
    this.executor = given != null ? given : newExecutor();
    long max = config.getMaxResponseBodySize();
    this.maxBody = max > 0 ? max : DEFAULT_MAX_BODY;
  }

  private static long positive(long v, long otherwise) {
    return v > 0 ? v : otherwise;
  }

  private static SSLSocketFactory tlsFactory(SSLContext context) {
    try {
      return (context != null ? context : SSLContext.getDefault()).getSocketFactory();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no TLS for the OTLP endpoint: " + e.getMessage(), e);
    }
  }

  private static ExecutorService newExecutor() {
    return new ThreadPoolExecutor(
        0,
        // the span pipeline has at most 4 requests in flight, the metric and log exporters one
        // each; more is refused (onError), never queued without bound
        Math.max(Runtime.getRuntime().availableProcessors(), 5),
        60,
        TimeUnit.SECONDS,
        new SynchronousQueue<>(),
        r -> daemon(r, "redis-resilience-agent-otlp-http-" + THREADS.incrementAndGet()));
  }

  private static java.util.concurrent.ScheduledThreadPoolExecutor reaper() {
    java.util.concurrent.ScheduledThreadPoolExecutor r =
        new java.util.concurrent.ScheduledThreadPoolExecutor(
            1, t -> daemon(t, "redis-resilience-agent-otlp-http-deadline"));
    r.setRemoveOnCancelPolicy(true);
    return r;
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.setContextClassLoader(null); // never pins the application's class loader
    return t;
  }

  @Override
  public void send(
      MessageWriter message, Consumer<HttpResponse> onResponse, Consumer<Throwable> onError) {
    if (shutdown) {
      onError.accept(new IOException("OTLP sender is shut down"));
      return;
    }
    try {
      executor.execute(
          () -> {
            HttpResponse r;
            try {
              r = sendWithRetries(message);
            } catch (Throwable t) {
              callback(onError, t);
              return;
            }
            callback(onResponse, r);
          });
    } catch (Throwable e) { // rejected, or no thread could be started: the export fails, not the caller
      onError.accept(e);
    }
  }

  private static <T> void callback(Consumer<T> c, T value) {
    try {
      c.accept(value);
    } catch (RuntimeException e) {
      // the exporter's own callback failed: nothing for this thread to do about it
    }
  }

  private HttpResponse sendWithRetries(MessageWriter message) throws IOException {
    long start = System.nanoTime();
    long deadline = start + timeoutNanos;
    Body body = takeBody();
    try {
      body.fill(message, compressor);
      return attempts(body, deadline);
    } finally {
      giveBack(body);
    }
  }

  private HttpResponse attempts(Body body, long deadline) throws IOException {
    int attempts = retry == null ? 1 : Math.max(1, retry.getMaxAttempts());
    long nextBackoff = retry == null ? 0 : retry.getInitialBackoff().toNanos();
    HttpResponse response = null;
    IOException error = null;
    for (int attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        if (shutdown) {
          break; // no more attempts once the exporter is shut down
        }
        long backoff = Math.min(nextBackoff, retry.getMaxBackoff().toNanos());
        nextBackoff = (long) (backoff * retry.getBackoffMultiplier());
        long sleep = (long) (ThreadLocalRandom.current().nextDouble(0.8, 1.2) * backoff);
        long asked = response instanceof HttpConnection.Response
            ? ((HttpConnection.Response) response).retryAfterNanos
            : -1;
        if (asked >= 0) {
          sleep = asked; // the collector said when (429 / 503 with Retry-After)
        }
        if (System.nanoTime() + sleep >= deadline) {
          break; // no time left for another attempt
        }
        try {
          TimeUnit.NANOSECONDS.sleep(sleep);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      response = null;
      error = null;
      try {
        response = once(body, deadline);
        if (!RETRYABLE_STATUS.contains(response.getStatusCode())) {
          return response;
        }
      } catch (IOException e) {
        error = e;
        if (!retryableError.test(e)) {
          throw e;
        }
      }
    }
    if (response != null) {
      return response;
    }
    throw error != null ? error : new SocketTimeoutException("OTLP export timed out");
  }

  /** One attempt: a kept-alive connection when there is one, else a new one. */
  private HttpResponse once(Body body, long deadline) throws IOException {
    HttpConnection c = reuse();
    boolean reused = c != null;
    if (c == null) {
      c = open(deadline);
    }
    HttpResponse r;
    try {
      r = exchange(c, body, deadline);
    } catch (IOException | RuntimeException e) {
      c.close();
      if (!reused || c.responseStarted() || e instanceof SocketTimeoutException
          || !(e instanceof IOException) || e instanceof SSLException
          || e instanceof java.net.ProtocolException) {
        throw e;
      }
      // the server had closed the kept-alive connection before it saw this request (nothing of
      // a response came back): once more on a new connection, which is not an attempt
      c = open(deadline);
      try {
        r = exchange(c, body, deadline);
      } catch (IOException | RuntimeException again) {
        c.close();
        throw again;
      }
    }
    keepOrClose(c);
    return r;
  }

  private void keepOrClose(HttpConnection c) {
    if (!c.reusable() || shutdown || idleCount.get() >= MAX_IDLE_CONNECTIONS) {
      c.close();
      return;
    }
    idle.push(c);
    idleCount.incrementAndGet();
    // the oldest idle connection may have outlived the server's keep-alive: closed, not kept
    HttpConnection oldest = idle.peekLast();
    if (oldest != null && System.nanoTime() - oldest.idleSinceNanos() >= MAX_IDLE_NANOS
        && idle.removeLastOccurrence(oldest)) {
      idleCount.decrementAndGet();
      oldest.close();
    }
    if (shutdown) {
      closeIdle(); // shut down meanwhile: nothing stays open
    }
  }

  private HttpResponse exchange(HttpConnection c, Body body, long deadline) throws IOException {
    Map<String, List<String>> h = headers == null ? null : headers.get();
    int timeout = remainingMillis(deadline);
    // a blocked write (a collector that stopped reading) is not bounded by SO_TIMEOUT: the
    // reaper closes the socket at the deadline
    java.util.concurrent.ScheduledFuture<?> reap =
        REAPER.schedule(c::abort, deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
    try {
      return c.exchange(
          "POST",
          requestTarget(c),
          hostHeader,
          withEntityHeaders(h, body.encoding),
          body.size(),
          body,
          maxBody,
          timeout);
    } catch (IOException e) {
      // a socket the reaper closed is a timeout, not a "Socket closed" failure (the blocked I/O
      // may wake before the reaper's task has returned)
      if (c.aborted() || System.nanoTime() - deadline >= 0) {
        SocketTimeoutException t = new SocketTimeoutException("OTLP export timed out");
        t.initCause(e);
        throw t;
      }
      throw e;
    } finally {
      reap.cancel(false);
    }
  }

  private String requestTarget(HttpConnection c) {
    Proxy p = c.proxy();
    // through an HTTP proxy (no tunnel for plain http), the request names the whole URI
    return p != null && p.type() == Proxy.Type.HTTP && tls == null
        ? uri.getScheme() + "://" + hostHeader + target
        : target;
  }

  private Map<String, List<String>> withEntityHeaders(Map<String, List<String>> h, String encoding) {
    Map<String, List<String>> all = new java.util.LinkedHashMap<>();
    if (h != null) {
      for (Map.Entry<String, List<String>> e : h.entrySet()) {
        String n = e.getKey();
        if (!RESERVED_HEADERS.contains(n.toLowerCase(java.util.Locale.ROOT))) {
          all.put(n, e.getValue());
        }
      }
    }
    all.put("Content-Type", List.of(contentType));
    if (encoding != null) {
      all.put("Content-Encoding", List.of(encoding));
    }
    return all;
  }

  private HttpConnection reuse() {
    HttpConnection c;
    long now = System.nanoTime();
    while ((c = idle.poll()) != null) {
      idleCount.decrementAndGet();
      if (c.reusable() && now - c.idleSinceNanos() < MAX_IDLE_NANOS) {
        return c;
      }
      c.close();
    }
    return null;
  }

  private void closeIdle() {
    HttpConnection c;
    while ((c = idle.poll()) != null) {
      idleCount.decrementAndGet();
      c.close();
    }
  }

  private Body takeBody() {
    Body b = bodies.poll();
    return b != null ? b : new Body();
  }

  private void giveBack(Body b) {
    if (!shutdown && b.capacity() <= MAX_POOLED_BODY_BYTES && bodies.size() < MAX_POOLED_BODIES) {
      bodies.offer(b);
    }
  }

  private HttpConnection open(long deadline) throws IOException {
    int remaining = remainingMillis(deadline);
    return HttpConnection.open(
        uri, proxy(), tls, tlsProtocols, Math.min(connectTimeoutMillis, remaining));
  }

  private Proxy proxy() {
    if (proxyOptions == null) {
      return null; // as OpenTelemetry's JDK sender: no proxy unless one is configured
    }
    List<Proxy> ps = proxyOptions.getProxySelector().select(uri);
    return ps == null || ps.isEmpty() || ps.get(0).type() == Proxy.Type.DIRECT ? null : ps.get(0);
  }

  private static int remainingMillis(long deadline) throws SocketTimeoutException {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      throw new SocketTimeoutException("OTLP export timed out");
    }
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left)));
  }

  @Override
  public CompletableResultCode shutdown() {
    shutdown = true;
    closeIdle();
    bodies.clear();
    if (ownExecutor) {
      executor.shutdown();
    }
    return CompletableResultCode.ofSuccess();
  }

  /** A request body, encoded (and compressed) once per export into a buffer the thread reuses. */
  private static final class Body extends ByteArrayOutputStream implements HttpConnection.BodyWriter {
    String encoding;

    Body() {
      super(64 * 1024);
    }

    int capacity() {
      return buf.length;
    }

    void fill(MessageWriter message, Compressor compressor) throws IOException {
      reset();
      if (compressor == null) {
        encoding = null;
        message.writeMessage(this);
        return;
      }
      encoding = compressor.getEncoding();
      try (OutputStream z = compressor.compress(new FilterOutputStream(this) {
            @Override
            public void write(byte[] b, int off, int len) {
              Body.this.write(b, off, len);
            }

            @Override
            public void close() {
              // the buffer stays open
            }
          })) {
        message.writeMessage(z);
      }
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
      out.write(buf, 0, count);
    }
  }
}
