package dev.redisresilience.agent.telemetry.http;

import io.opentelemetry.sdk.common.export.HttpResponse;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One persistent HTTP/1.1 connection to an OTLP receiver: writes a POST with a known length, reads
 * the status, headers and body (Content-Length, chunked, or up to close). Used by one request at a
 * time; kept open for the next one unless the server closes it. Buffers are the connection's, so a
 * request allocates little beyond the response body.
 */
final class HttpConnection implements AutoCloseable {
  private static final byte[] CRLF = {'\r', '\n'};

  private final Socket socket; // the TLS socket for https
  private final Socket raw; // the TCP socket under it: closing it unblocks a stuck read or write
  private final Proxy proxy; // the proxy this connection goes through, or null
  private final OutputStream out;
  private final InputStream in;
  private final StringBuilder line = new StringBuilder(128);
  private long idleSinceNanos;
  private boolean reusable = true;
  private volatile boolean responseStarted;
  private int requests;

  private HttpConnection(Socket socket, Socket raw, Proxy proxy) throws IOException {
    this.socket = socket;
    this.raw = raw;
    this.proxy = proxy;
    socket.setTcpNoDelay(true);
    socket.setKeepAlive(true);
    this.out = new BufferedOutputStream(socket.getOutputStream(), 64 * 1024);
    this.in = new BufferedInputStream(socket.getInputStream(), 8 * 1024);
  }

  /**
   * Connects to {@code uri} (http or https), directly or through an HTTP proxy ({@code proxy} not
   * DIRECT): plain http sends absolute-form requests to the proxy, https tunnels with CONNECT.
   */
  static HttpConnection open(
      URI uri, Proxy proxy, SSLSocketFactory tls, List<String> tlsProtocols, int connectTimeoutMillis)
      throws IOException {
    boolean https = "https".equalsIgnoreCase(uri.getScheme());
    String host = hostOf(uri);
    int port = portOf(uri);
    boolean viaProxy = proxy != null && proxy.type() == Proxy.Type.HTTP;
    boolean socks = proxy != null && proxy.type() == Proxy.Type.SOCKS;
    Socket raw = socks ? new Socket(proxy) : new Socket();
    try {
      InetSocketAddress target;
      if (socks) {
        target = InetSocketAddress.createUnresolved(host, port); // the proxy resolves it
      } else {
        target = viaProxy ? (InetSocketAddress) proxy.address() : new InetSocketAddress(host, port);
        if (target.isUnresolved()) {
          target = new InetSocketAddress(target.getHostString(), target.getPort());
        }
      }
      raw.connect(target, Math.max(1, connectTimeoutMillis));
      raw.setSoTimeout(Math.max(1, connectTimeoutMillis));
      if (viaProxy && https) {
        tunnel(raw, host, port);
      }
      if (!https) {
        return new HttpConnection(raw, raw, proxy);
      }
      SSLSocket s = (SSLSocket) tls.createSocket(raw, host, port, true);
      SSLParameters p = s.getSSLParameters();
      p.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host
      if (tlsProtocols != null && !tlsProtocols.isEmpty()) {
        p.setProtocols(tlsProtocols.toArray(new String[0]));
      }
      s.setSSLParameters(p);
      s.startHandshake();
      return new HttpConnection(s, raw, proxy);
    } catch (IOException | RuntimeException e) {
      try {
        raw.close();
      } catch (IOException ignored) {
        // the failure is reported
      }
      throw e;
    }
  }

  private static void tunnel(Socket raw, String host, int port) throws IOException {
    OutputStream o = raw.getOutputStream();
    String authority = authority(host, port);
    o.write(("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
        .getBytes(StandardCharsets.ISO_8859_1));
    o.flush();
    InputStream i = raw.getInputStream();
    // the proxy's reply: a status line and headers, no body on success
    StringBuilder sb = new StringBuilder();
    String status = readLine(i, sb);
    if (status == null || !status.matches("HTTP/1\\.[01] 2\\d\\d.*")) {
      throw new java.net.ProtocolException("proxy refused CONNECT " + authority + ": " + status);
    }
    String h;
    while ((h = readLine(i, sb)) != null && !h.isEmpty()) {
      // skip the proxy's headers
    }
  }

  /**
   * Sends one request and returns the response. {@code body} writes exactly {@code length} bytes.
   * A failure leaves the connection unusable ({@link #reusable()} false).
   */
  HttpResponse exchange(
      String method,
      String target,
      String host,
      Map<String, List<String>> headers,
      int length,
      BodyWriter body,
      long maxBody,
      int timeoutMillis)
      throws IOException {
    if (headers != null) {
      for (Map.Entry<String, List<String>> h : headers.entrySet()) {
        for (String v : h.getValue()) {
          if (!safe(h.getKey()) || !safe(v)) {
            // before anything is written; names the header, never its value (a credential)
            throw new IllegalArgumentException(
                "OTLP header " + h.getKey() + " has a line break or a control character");
          }
        }
      }
    }
    requests++;
    reusable = false; // until the whole response was read
    responseStarted = false;
    socket.setSoTimeout(Math.max(1, timeoutMillis));
    writeAscii(method);
    out.write(' ');
    writeAscii(target);
    writeAscii(" HTTP/1.1\r\nHost: ");
    writeAscii(host);
    out.write(CRLF);
    if (headers != null) {
      for (Map.Entry<String, List<String>> h : headers.entrySet()) {
        for (String v : h.getValue()) {
          writeHeader(h.getKey(), v);
        }
      }
    }
    writeAscii("Accept-Encoding: identity\r\nContent-Length: ");
    writeAscii(Integer.toString(length));
    out.write(CRLF);
    out.write(CRLF);
    body.writeTo(out);
    out.flush();
    return readResponse(maxBody);
  }

  /** Writes a request body. */
  interface BodyWriter {
    void writeTo(OutputStream out) throws IOException;
  }

  private HttpResponse readResponse(long maxBody) throws IOException {
    while (true) {
      int first = in.read();
      if (first < 0) {
        throw new EOFException("connection closed before a response");
      }
      responseStarted = true; // from here on the server has seen the request
      String status = (char) first + readLine(in, line, true);
      // HTTP/1.1 200 OK
      if (!status.startsWith("HTTP/1.") || status.length() < 12) {
        throw new java.net.ProtocolException("not an HTTP/1.x response: " + truncate(status));
      }
      int code;
      try {
        code = Integer.parseInt(status.substring(9, 12));
      } catch (NumberFormatException e) {
        throw new java.net.ProtocolException("bad HTTP status line: " + truncate(status));
      }
      if (code == 101) {
        throw new java.net.ProtocolException("unexpected 101 Switching Protocols");
      }
      String message = status.length() > 13 ? status.substring(13) : "";
      boolean http10 = status.startsWith("HTTP/1.0");
      long contentLength = -1;
      boolean chunked = false;
      boolean close = http10;
      String retryAfter = null;
      String h;
      while ((h = readLine(in, line)) != null && !h.isEmpty()) {
        int colon = h.indexOf(':');
        if (colon <= 0) {
          continue;
        }
        String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
        String value = h.substring(colon + 1).trim();
        switch (name) {
          case "content-length":
            try {
              contentLength = Long.parseLong(value);
            } catch (NumberFormatException e) {
              throw new java.net.ProtocolException("bad Content-Length: " + truncate(value));
            }
            break;
          case "transfer-encoding":
            chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
            break;
          case "connection":
            String v = value.toLowerCase(Locale.ROOT);
            close = v.contains("close") || (http10 && !v.contains("keep-alive"));
            break;
          case "retry-after":
            retryAfter = value;
            break;
          default:
            break;
        }
      }
      if (h == null) {
        throw new EOFException("connection closed in the response headers");
      }
      if (code < 200) {
        continue; // 100 Continue, 103 Early Hints: interim, the final response follows
      }
      byte[] bodyBytes;
      if (code == 204 || code == 304) {
        bodyBytes = new byte[0];
      } else if (chunked) {
        bodyBytes = readChunked(maxBody);
      } else if (contentLength >= 0) {
        bodyBytes = readFixed(contentLength, maxBody);
      } else {
        bodyBytes = readToClose(maxBody);
        close = true;
      }
      reusable = !close;
      idleSinceNanos = System.nanoTime();
      return new Response(code, message, bodyBytes, retryAfterNanos(retryAfter));
    }
  }

  /** Retry-After in seconds or as an HTTP date, in nanoseconds from now; -1: none or unreadable. */
  static long retryAfterNanos(String value) {
    if (value == null || value.isEmpty()) {
      return -1;
    }
    try {
      return java.util.concurrent.TimeUnit.SECONDS.toNanos(Math.max(0, Long.parseLong(value)));
    } catch (NumberFormatException notSeconds) {
      try {
        java.time.ZonedDateTime at =
            java.time.ZonedDateTime.parse(value, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME);
        return Math.max(0, java.time.Duration.between(java.time.Instant.now(), at.toInstant()).toNanos());
      } catch (java.time.format.DateTimeParseException e) {
        return -1;
      }
    }
  }

  private byte[] readFixed(long length, long maxBody) throws IOException {
    ByteArrayOutputStream keep = new ByteArrayOutputStream((int) Math.min(length, 1024));
    copy(length, maxBody, keep);
    return keep.toByteArray();
  }

  private byte[] readChunked(long maxBody) throws IOException {
    ByteArrayOutputStream keep = new ByteArrayOutputStream(256);
    while (true) {
      String size = readLine(in, line);
      if (size == null) {
        throw new EOFException("connection closed in a chunked body");
      }
      int semi = size.indexOf(';');
      long n;
      try {
        n = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
      } catch (NumberFormatException e) {
        throw new IOException("bad chunk size: " + truncate(size));
      }
      if (n == 0) {
        String t;
        while ((t = readLine(in, line)) != null && !t.isEmpty()) {
          // trailers: ignored
        }
        return keep.toByteArray();
      }
      copy(n, maxBody, keep);
      if (readLine(in, line) == null) { // the CRLF after the chunk
        throw new EOFException("connection closed in a chunked body");
      }
    }
  }

  private byte[] readToClose(long maxBody) throws IOException {
    ByteArrayOutputStream keep = new ByteArrayOutputStream(256);
    byte[] buf = new byte[4096];
    int r;
    while ((r = in.read(buf)) >= 0) {
      if (keep.size() + r > maxBody) {
        throw new java.net.ProtocolException("OTLP response body over " + maxBody + " bytes");
      }
      keep.write(buf, 0, r);
    }
    return keep.toByteArray();
  }

  /** Reads {@code n} bytes into {@code keep}; a body over {@code maxBody} fails the request. */
  private void copy(long n, long maxBody, ByteArrayOutputStream keep) throws IOException {
    if (keep.size() + n > maxBody) {
      throw new java.net.ProtocolException("OTLP response body over " + maxBody + " bytes");
    }
    byte[] buf = new byte[(int) Math.min(Math.max(n, 1), 4096)];
    while (n > 0) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, n));
      if (r < 0) {
        throw new EOFException("connection closed in the response body");
      }
      keep.write(buf, 0, r);
      n -= r;
    }
  }

  /** One line without its CRLF (a bare LF is accepted); null at end of stream before any byte. */
  private static String readLine(InputStream in, StringBuilder sb) throws IOException {
    return readLine(in, sb, false);
  }

  /** As above; {@code started}: the line's first byte was already read (end of stream is then an error). */
  private static String readLine(InputStream in, StringBuilder sb, boolean started) throws IOException {
    sb.setLength(0);
    int c;
    boolean any = started;
    while ((c = in.read()) >= 0) {
      any = true;
      if (c == '\n') {
        int n = sb.length();
        if (n > 0 && sb.charAt(n - 1) == '\r') {
          sb.setLength(n - 1);
        }
        return sb.toString();
      }
      if (sb.length() >= 16 * 1024) {
        throw new IOException("HTTP line longer than 16 KiB");
      }
      sb.append((char) c);
    }
    if (any) {
      throw new EOFException("connection closed in a line");
    }
    return null;
  }

  private void writeHeader(String name, String value) throws IOException {
    writeAscii(name);
    out.write(':');
    out.write(' ');
    out.write(value.getBytes(StandardCharsets.UTF_8));
    out.write(CRLF);
  }

  private static boolean safe(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\r' || c == '\n' || c == 0) {
        return false;
      }
    }
    return true;
  }

  private void writeAscii(String s) throws IOException {
    for (int i = 0; i < s.length(); i++) {
      out.write(s.charAt(i));
    }
  }

  boolean reusable() {
    return reusable && !socket.isClosed();
  }

  long idleSinceNanos() {
    return idleSinceNanos;
  }

  /** Whether a byte of the response to the last request arrived (the server saw the request). */
  boolean responseStarted() {
    return responseStarted;
  }

  Proxy proxy() {
    return proxy;
  }

  /**
   * From another thread: closes the TCP socket, which fails a read or write blocked on it (an
   * SSLSocket's own close could wait for the lock the blocked writer holds).
   */
  private volatile boolean aborted;

  /** Whether {@link #abort} closed the socket (set before it closes, seen by the blocked I/O). */
  boolean aborted() {
    return aborted;
  }

  void abort() {
    aborted = true;
    reusable = false;
    try {
      raw.close();
    } catch (IOException ignored) {
      // aborting
    }
  }

  /** Requests this connection carried (the first one included). */
  int requests() {
    return requests;
  }

  @Override
  public void close() {
    reusable = false;
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing
    }
    abort();
  }

  static String hostOf(URI uri) {
    String h = uri.getHost();
    if (h == null) {
      throw new IllegalArgumentException("OTLP endpoint without a host: " + uri.getScheme() + "://...");
    }
    return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
  }

  static int portOf(URI uri) {
    int p = uri.getPort();
    return p > 0 ? p : "https".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
  }

  /** host:port for CONNECT, with brackets around an IPv6 literal. */
  static String authority(String host, int port) {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  /** The Host header: host, and the port unless it is the scheme's default. */
  static String hostHeader(URI uri) {
    String host = hostOf(uri);
    int port = portOf(uri);
    boolean https = "https".equalsIgnoreCase(uri.getScheme());
    String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return (https && port == 443) || (!https && port == 80) ? h : h + ":" + port;
  }

  /** scheme://host:port of an endpoint, without user info, path or query (which may hold keys). */
  static String redacted(URI uri) {
    return uri.getScheme() + "://" + (uri.getHost() == null ? "?" : uri.getHost())
        + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
  }

  private static String truncate(String s) {
    return s.length() > 100 ? s.substring(0, 100) + "..." : s;
  }

  static final class Response implements HttpResponse {
    private final int code;
    private final String message;
    private final byte[] body;
    final long retryAfterNanos; // -1: no Retry-After

    Response(int code, String message, byte[] body, long retryAfterNanos) {
      this.code = code;
      this.message = message;
      this.body = body;
      this.retryAfterNanos = retryAfterNanos;
    }

    @Override
    public int getStatusCode() {
      return code;
    }

    @Override
    public String getStatusMessage() {
      return message;
    }

    @Override
    public byte[] getResponseBody() {
      return body;
    }
  }
}
