package dev.redisresilience.agent.telemetry.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.sdk.common.export.Compressor;
import io.opentelemetry.sdk.common.export.HttpResponse;
import io.opentelemetry.sdk.common.export.HttpSenderConfig;
import io.opentelemetry.sdk.common.export.MessageWriter;
import io.opentelemetry.sdk.common.export.ProxyOptions;
import io.opentelemetry.sdk.common.export.RetryPolicy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The agent's OTLP HTTP/1.1 sender against real HTTP servers on loopback. */
class OtlpHttpSenderTest {
  private HttpServer server;
  private final List<String> bodies = new CopyOnWriteArrayList<>();
  private final List<Integer> clientPorts = new CopyOnWriteArrayList<>();
  private final List<String> seenHeaders = new CopyOnWriteArrayList<>();
  private final AtomicInteger requests = new AtomicInteger();
  private volatile int[] statuses = {200};

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
  }

  private URI startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/v1/traces",
        ex -> {
          int n = requests.getAndIncrement();
          byte[] in = ex.getRequestBody().readAllBytes();
          if ("gzip".equals(ex.getRequestHeaders().getFirst("Content-Encoding"))) {
            in = new GZIPInputStream(new java.io.ByteArrayInputStream(in)).readAllBytes();
          }
          bodies.add(new String(in, StandardCharsets.UTF_8));
          clientPorts.add(ex.getRemoteAddress().getPort());
          seenHeaders.add(
              ex.getRequestHeaders().getFirst("Content-Type")
                  + "|"
                  + ex.getRequestHeaders().getFirst("X-Tenant")
                  + "|"
                  + ex.getRequestURI());
          int status = statuses[Math.min(n, statuses.length - 1)];
          byte[] out = ("status " + status).getBytes(StandardCharsets.UTF_8);
          ex.sendResponseHeaders(status, out.length);
          ex.getResponseBody().write(out);
          ex.close();
        });
    server.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/traces?x=1");
  }

  @Test
  void postsKeepsTheConnectionAndSendsHeaders() throws Exception {
    OtlpHttpSender s = new OtlpHttpSender(config(startServer(), null, RetryPolicy.getDefault(), 5));
    for (int i = 0; i < 5; i++) {
      HttpResponse r = send(s, "span batch " + i);
      assertThat(r.getStatusCode()).isEqualTo(200);
      assertThat(new String(r.getResponseBody(), StandardCharsets.UTF_8)).isEqualTo("status 200");
    }
    s.shutdown();
    assertThat(bodies).containsExactly("span batch 0", "span batch 1", "span batch 2", "span batch 3", "span batch 4");
    assertThat(new java.util.HashSet<>(clientPorts)).as("one kept-alive connection").hasSize(1);
    assertThat(seenHeaders).allMatch(h -> h.equals("application/x-protobuf|acme|/v1/traces?x=1"));
  }

  @Test
  void retriesRetryableStatusesAndReturnsOthers() throws Exception {
    statuses = new int[] {503, 429, 200};
    OtlpHttpSender s = new OtlpHttpSender(config(startServer(), null, fastRetries(5), 5));
    assertThat(send(s, "a").getStatusCode()).isEqualTo(200);
    assertThat(requests.get()).isEqualTo(3);

    requests.set(0);
    statuses = new int[] {400, 200};
    HttpResponse r = send(s, "b");
    assertThat(r.getStatusCode()).as("a 400 is the collector's answer, not retried").isEqualTo(400);
    assertThat(new String(r.getResponseBody(), StandardCharsets.UTF_8)).isEqualTo("status 400");
    assertThat(requests.get()).isEqualTo(1);

    requests.set(0);
    statuses = new int[] {503};
    assertThat(send(s, "c").getStatusCode()).as("attempts used up: the last answer").isEqualTo(503);
    assertThat(requests.get()).isEqualTo(5);
    s.shutdown();
  }

  @Test
  void compressesWithTheConfiguredCompressor() throws Exception {
    Compressor gzip =
        new Compressor() {
          @Override
          public String getEncoding() {
            return "gzip";
          }

          @Override
          public OutputStream compress(OutputStream out) throws IOException {
            return new GZIPOutputStream(out);
          }
        };
    OtlpHttpSender s = new OtlpHttpSender(config(startServer(), gzip, null, 5));
    String big = "x".repeat(200_000);
    assertThat(send(s, big).getStatusCode()).isEqualTo(200);
    assertThat(send(s, "small").getStatusCode()).isEqualTo(200);
    assertThat(bodies).containsExactly(big, "small");
    s.shutdown();
  }

  /** A server that answers one request per connection and closes it without saying so. */
  @Test
  void aKeptAliveConnectionTheServerClosedIsReplacedWithoutAnAttempt() throws Exception {
    try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      AtomicInteger connections = new AtomicInteger();
      List<String> got = Collections.synchronizedList(new ArrayList<>());
      Thread t =
          new Thread(
              () -> {
                while (!ss.isClosed()) {
                  try (Socket c = ss.accept()) {
                    connections.incrementAndGet();
                    got.add(readRequestBody(c.getInputStream()));
                    OutputStream o = c.getOutputStream();
                    // chunked, and the connection closed right after (no Connection: close)
                    o.write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    o.flush();
                  } catch (IOException e) {
                    return;
                  }
                }
              });
      t.setDaemon(true);
      t.start();
      URI uri = URI.create("http://127.0.0.1:" + ss.getLocalPort() + "/v1/traces");
      // no retries: the replaced connection must not need one
      OtlpHttpSender s = new OtlpHttpSender(config(uri, null, null, 5));
      for (int i = 0; i < 3; i++) {
        HttpResponse r = send(s, "req" + i);
        assertThat(r.getStatusCode()).isEqualTo(200);
        assertThat(new String(r.getResponseBody(), StandardCharsets.ISO_8859_1)).isEqualTo("abcde");
      }
      assertThat(got).containsExactly("req0", "req1", "req2");
      assertThat(connections.get()).isEqualTo(3);
      s.shutdown();
    }
  }

  /** A raw HTTP server: {@code answer} gets each connection after its request was read. */
  private static ServerSocket rawServer(List<String> got, java.util.function.BiConsumer<Integer, OutputStream> answer)
      throws IOException {
    ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    AtomicInteger n = new AtomicInteger();
    Thread t =
        new Thread(
            () -> {
              while (!ss.isClosed()) {
                try (Socket c = ss.accept()) {
                  while (true) {
                    got.add(readRequestBody(c.getInputStream()));
                    answer.accept(n.getAndIncrement(), c.getOutputStream());
                    c.getOutputStream().flush();
                  }
                } catch (IOException | RuntimeException e) {
                  // next connection
                }
              }
            });
    t.setDaemon(true);
    t.start();
    return ss;
  }

  private static void write(OutputStream o, String s) {
    try {
      o.write(s.getBytes(StandardCharsets.ISO_8859_1));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** 100 Continue and 103 Early Hints are interim: the final answer is the one after them. */
  @Test
  void interimResponsesAreSkipped() throws Exception {
    List<String> got = Collections.synchronizedList(new ArrayList<>());
    try (ServerSocket ss =
        rawServer(
            got,
            (i, o) -> write(o, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
                + (i == 0 ? "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"
                    : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")))) {
      OtlpHttpSender s = new OtlpHttpSender(
          config(URI.create("http://127.0.0.1:" + ss.getLocalPort() + "/v1/traces"), null, fastRetries(3), 5));
      HttpResponse r = send(s, "a");
      assertThat(r.getStatusCode()).as("the 503 was retried, on the same connection").isEqualTo(200);
      assertThat(new String(r.getResponseBody(), StandardCharsets.UTF_8)).isEqualTo("ok");
      assertThat(send(s, "b").getStatusCode()).isEqualTo(200);
      assertThat(got).containsExactly("a", "a", "b");
      s.shutdown();
    }
  }

  /** A 429 with Retry-After waits what the collector asked (here longer than the backoff). */
  @Test
  void retryAfterIsHonoured() throws Exception {
    List<String> got = Collections.synchronizedList(new ArrayList<>());
    List<Long> at = new CopyOnWriteArrayList<>();
    try (ServerSocket ss =
        rawServer(
            got,
            (i, o) -> {
              at.add(System.nanoTime());
              write(o, i == 0 ? "HTTP/1.1 429 Slow down\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"
                  : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            })) {
      OtlpHttpSender s = new OtlpHttpSender(
          config(URI.create("http://127.0.0.1:" + ss.getLocalPort() + "/v1/traces"), null, fastRetries(3), 10));
      assertThat(send(s, "a").getStatusCode()).isEqualTo(200);
      assertThat(at).hasSize(2);
      assertThat((at.get(1) - at.get(0)) / 1_000_000).as("ms between the attempts").isGreaterThanOrEqualTo(950);
      assertThat(HttpConnection.retryAfterNanos("garbage")).isEqualTo(-1);
      assertThat(HttpConnection.retryAfterNanos("Wed, 21 Oct 2015 07:28:00 GMT")).isZero();
      s.shutdown();
    }
  }

  /** A header value with a line break would split the request: refused before anything is sent. */
  @Test
  void aHeaderWithALineBreakFailsTheExportAndSendsNothing() throws Exception {
    URI uri = startServer();
    HttpSenderConfig base = config(uri, null, fastRetries(3), 5);
    HttpSenderConfig bad =
        (HttpSenderConfig) java.lang.reflect.Proxy.newProxyInstance(
            HttpSenderConfig.class.getClassLoader(),
            new Class<?>[] {HttpSenderConfig.class},
            (proxy, m, args) -> m.getName().equals("getHeadersSupplier")
                ? (Supplier<Map<String, List<String>>>) () -> Map.of("Authorization", List.of("Bearer s3cret\r\nX-Evil: 1"))
                : m.isDefault() ? java.lang.reflect.InvocationHandler.invokeDefault(proxy, m, args) : m.invoke(base, args));
    OtlpHttpSender s = new OtlpHttpSender(bad);
    Throwable e = sendFailing(s, "x");
    assertThat(e).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Authorization");
    assertThat(e.getMessage()).doesNotContain("s3cret");
    assertThat(requests.get()).isZero();
    s.shutdown();
  }

  /**
   * A collector that accepts and never reads: a body larger than the socket buffers blocks the
   * write, which SO_TIMEOUT does not bound; the export still ends at its timeout.
   */
  @Test
  void aCollectorThatStopsReadingCannotHoldAnExportPastItsTimeout() throws Exception {
    try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      ss.setReceiveBufferSize(4096);
      List<Socket> held = Collections.synchronizedList(new ArrayList<>());
      Thread t =
          new Thread(
              () -> {
                while (!ss.isClosed()) {
                  try {
                    held.add(ss.accept());
                  } catch (IOException e) {
                    return;
                  }
                }
              });
      t.setDaemon(true);
      t.start();
      URI uri = URI.create("http://127.0.0.1:" + ss.getLocalPort() + "/v1/traces");
      OtlpHttpSender s = new OtlpHttpSender(config(uri, null, null, 1));
      long t0 = System.nanoTime();
      Throwable e = sendFailing(s, "x".repeat(32 << 20));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(e).isInstanceOf(java.net.SocketTimeoutException.class);
      assertThat(ms).as("the 1 s export timeout").isLessThan(5_000);
      s.shutdown();
      for (Socket c : held) {
        c.close();
      }
    }
  }

  @Test
  void aServerThatNeverAnswersFailsTheExportWithinItsTimeout() throws Exception {
    try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      List<Socket> held = Collections.synchronizedList(new ArrayList<>());
      Thread t =
          new Thread(
              () -> {
                while (!ss.isClosed()) {
                  try {
                    held.add(ss.accept()); // reads nothing, answers nothing
                  } catch (IOException e) {
                    return;
                  }
                }
              });
      t.setDaemon(true);
      t.start();
      URI uri = URI.create("http://127.0.0.1:" + ss.getLocalPort() + "/v1/traces");
      OtlpHttpSender s = new OtlpHttpSender(config(uri, null, fastRetries(3), 1));
      long t0 = System.nanoTime();
      Throwable e = sendFailing(s, "x");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(e).isInstanceOf(java.net.SocketTimeoutException.class);
      assertThat(ms).as("the 1 s export timeout bounds every attempt together").isLessThan(5_000);
      s.shutdown();
      for (Socket c : held) {
        c.close();
      }
    }
  }

  /**
   * https: the handshake with the configured SSLContext, the certificate checked against the host
   * (a certificate for another name is refused, and a TLS failure is not retried).
   */
  @Test
  void httpsVerifiesTheServerCertificateAndItsName(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
      throws Exception {
    SSLContext good = selfSigned(tmp, "good", "ip:127.0.0.1");
    SSLContext wrongName = selfSigned(tmp, "other", "dns:collector.example");
    for (SSLContext serverTls : new SSLContext[] {good, wrongName}) {
      com.sun.net.httpserver.HttpsServer https =
          com.sun.net.httpserver.HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(serverTls));
      https.createContext(
          "/v1/traces",
          ex -> {
            requests.incrementAndGet();
            bodies.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(200, -1);
            ex.close();
          });
      https.start();
      try {
        URI uri = URI.create("https://127.0.0.1:" + https.getAddress().getPort() + "/v1/traces");
        // the client trusts the server's own certificate (the context doubles as trust store)
        OtlpHttpSender s = new OtlpHttpSender(config(uri, null, fastRetries(3), 5, serverTls));
        if (serverTls == good) {
          assertThat(send(s, "over tls").getStatusCode()).isEqualTo(200);
          assertThat(send(s, "again").getStatusCode()).isEqualTo(200);
          assertThat(bodies).containsExactly("over tls", "again");
        } else {
          requests.set(0);
          assertThat(sendFailing(s, "refused")).isInstanceOf(javax.net.ssl.SSLException.class);
          assertThat(requests.get()).isZero();
        }
        s.shutdown();
      } finally {
        https.stop(0);
      }
    }
  }

  /** A key store with one self-signed certificate for {@code san}, as server key and trust. */
  private static SSLContext selfSigned(java.nio.file.Path dir, String alias, String san) throws Exception {
    java.nio.file.Path ks = dir.resolve(alias + ".p12");
    Process p =
        new ProcessBuilder(
                java.nio.file.Paths.get(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", alias, "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=otlp-test", "-ext", "SAN=" + san, "-validity", "2",
                "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "changeit",
                "-keypass", "changeit")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
    try (InputStream in = java.nio.file.Files.newInputStream(ks)) {
      store.load(in, "changeit".toCharArray());
    }
    javax.net.ssl.KeyManagerFactory kmf =
        javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(store, "changeit".toCharArray());
    javax.net.ssl.TrustManagerFactory tmf =
        javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(store);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  @Test
  void aRefusedConnectionIsAnError() throws Exception {
    int port;
    try (ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      port = ss.getLocalPort();
    }
    OtlpHttpSender s =
        new OtlpHttpSender(config(URI.create("http://127.0.0.1:" + port + "/v1/traces"), null, fastRetries(2), 2));
    assertThat(sendFailing(s, "x")).isInstanceOf(java.net.ConnectException.class);
    s.shutdown();
    assertThat(sendFailing(s, "y")).hasMessageContaining("shut down");
  }

  // ------------------------------------------------------------------------------------------

  private static String readRequestBody(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int c;
    int state = 0;
    while (state < 4 && (c = in.read()) >= 0) {
      head.write(c);
      state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
    }
    int len = 0;
    for (String l : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
      if (l.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        len = Integer.parseInt(l.substring(15).trim());
      }
    }
    return new String(in.readNBytes(len), StandardCharsets.UTF_8);
  }

  private static RetryPolicy fastRetries(int attempts) {
    return RetryPolicy.builder()
        .setMaxAttempts(attempts)
        .setInitialBackoff(Duration.ofMillis(5))
        .setMaxBackoff(Duration.ofMillis(20))
        .build();
  }

  private static HttpResponse send(OtlpHttpSender s, String body) throws Exception {
    CompletableFuture<Object> f = new CompletableFuture<>();
    s.send(writer(body), f::complete, f::complete);
    Object o = f.get(30, TimeUnit.SECONDS);
    if (o instanceof Throwable) {
      throw new AssertionError("export failed", (Throwable) o);
    }
    return (HttpResponse) o;
  }

  private static Throwable sendFailing(OtlpHttpSender s, String body) throws Exception {
    CompletableFuture<Object> f = new CompletableFuture<>();
    s.send(writer(body), f::complete, f::complete);
    Object o = f.get(30, TimeUnit.SECONDS);
    assertThat(o).isInstanceOf(Throwable.class);
    return (Throwable) o;
  }

  private static MessageWriter writer(String body) {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    return new MessageWriter() {
      @Override
      public void writeMessage(OutputStream out) throws IOException {
        out.write(b);
      }

      @Override
      public int getContentLength() {
        return b.length;
      }
    };
  }

  private static HttpSenderConfig config(URI uri, Compressor compressor, RetryPolicy retry, int timeoutSeconds) {
    return config(uri, compressor, retry, timeoutSeconds, null);
  }

  private static HttpSenderConfig config(
      URI uri, Compressor compressor, RetryPolicy retry, int timeoutSeconds, SSLContext tls) {
    return new HttpSenderConfig() {
      @Override
      public URI getEndpoint() {
        return uri;
      }

      @Override
      public String getContentType() {
        return "application/x-protobuf";
      }

      @Override
      public Compressor getCompressor() {
        return compressor;
      }

      @Override
      public Duration getTimeout() {
        return Duration.ofSeconds(timeoutSeconds);
      }

      @Override
      public Duration getConnectTimeout() {
        return Duration.ofSeconds(timeoutSeconds);
      }

      @Override
      public Supplier<Map<String, List<String>>> getHeadersSupplier() {
        return () -> Map.of("X-Tenant", List.of("acme"), "User-Agent", List.of("OTel-OTLP-Exporter-Java/test"));
      }

      @Override
      public ProxyOptions getProxyOptions() {
        return null;
      }

      @Override
      public RetryPolicy getRetryPolicy() {
        return retry;
      }

      @Override
      public SSLContext getSslContext() {
        return tls;
      }

      @Override
      public X509TrustManager getTrustManager() {
        return null;
      }

      @Override
      public ExecutorService getExecutorService() {
        return null;
      }
    };
  }
}
