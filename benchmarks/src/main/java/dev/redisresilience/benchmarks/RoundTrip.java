package dev.redisresilience.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * The client-server round trip as a Java client sees it: {@code PING} on one TCP connection
 * (TCP_NODELAY, as Jedis and Lettuce set it), one at a time, after 200 unmeasured ones. Includes
 * redis-server's own time for a PING (a few µs) and the JVM's socket calls.
 */
final class RoundTrip {
  final int samples;
  final double minMicros;
  final double medianMicros;
  final double p90Micros;
  final double p99Micros;

  private RoundTrip(long[] nanos) {
    Arrays.sort(nanos);
    samples = nanos.length;
    minMicros = nanos[0] / 1e3;
    medianMicros = nanos[nanos.length / 2] / 1e3;
    p90Micros = nanos[(int) (nanos.length * 0.90)] / 1e3;
    p99Micros = nanos[(int) (nanos.length * 0.99)] / 1e3;
  }

  static RoundTrip measure(String host, int port, int count) {
    byte[] ping = "PING\r\n".getBytes(StandardCharsets.US_ASCII);
    byte[] pong = new byte[7]; // +PONG\r\n
    long[] nanos = new long[count];
    try (Socket s = new Socket()) {
      s.setTcpNoDelay(true);
      s.connect(new InetSocketAddress(host, port), 5000);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      for (int i = -200; i < count; i++) {
        long t0 = System.nanoTime();
        out.write(ping);
        out.flush();
        int got = 0;
        while (got < pong.length) {
          int n = in.read(pong, got, pong.length - got);
          if (n < 0) {
            throw new IOException("connection closed by " + host + ":" + port);
          }
          got += n;
        }
        long t = System.nanoTime() - t0;
        if (pong[0] != '+') {
          throw new IOException("unexpected reply to PING: "
              + new String(pong, StandardCharsets.US_ASCII));
        }
        if (i >= 0) {
          nanos[i] = t;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("PING to " + host + ":" + port + " failed", e);
    }
    return new RoundTrip(nanos);
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "median %.0f µs, p90 %.0f µs, p99 %.0f µs, min %.0f µs"
        + " (%,d PINGs, one at a time)", medianMicros, p90Micros, p99Micros, minMicros, samples);
  }
}
