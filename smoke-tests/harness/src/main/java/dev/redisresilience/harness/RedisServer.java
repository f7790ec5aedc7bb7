package dev.redisresilience.harness;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code redis-server} (the Debian package) on a free loopback port, in its own temporary
 * directory, with persistence off. Can be killed with SIGKILL and restarted on the same port.
 */
public final class RedisServer implements AutoCloseable {
  private final int port;
  private final Path dir;
  private final List<String> extraArgs;
  private Process process;

  private RedisServer(int port, List<String> extraArgs) {
    this.port = port;
    this.extraArgs = extraArgs;
    try {
      this.dir = Files.createTempDirectory("redis-" + port + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts a server on a free port; extra args are passed as {@code --name value} pairs. */
  public static RedisServer start(String... extraArgs) {
    RedisServer s = new RedisServer(Ports.free(), Arrays.asList(extraArgs));
    s.startProcess();
    return s;
  }

  public static String binary() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
      File f = new File(dir, "redis-server");
      if (f.canExecute()) {
        return f.getPath();
      }
    }
    for (String p : new String[] {"/usr/bin/redis-server", "/usr/local/bin/redis-server"}) {
      if (new File(p).canExecute()) {
        return p;
      }
    }
    throw new IllegalStateException(
        "redis-server is not installed (not on PATH, /usr/bin or /usr/local/bin). Install it with"
            + " `apt-get update && apt-get install -y redis-server`; the README's commands and"
            + " .ci/run do this for you.");
  }

  public int port() {
    return port;
  }

  public String host() {
    return "127.0.0.1";
  }

  public String uri() {
    return "redis://127.0.0.1:" + port;
  }

  public synchronized void startProcess() {
    List<String> cmd = new ArrayList<>();
    cmd.add(binary());
    cmd.addAll(
        Arrays.asList(
            "--port", String.valueOf(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--protected-mode", "no",
            "--daemonize", "no",
            "--dir", dir.toString(),
            "--logfile", dir.resolve("redis.log").toString()));
    cmd.addAll(extraArgs);
    try {
      process = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(dir.resolve("stdout.log").toFile())
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "redis-server exited with " + process.exitValue() + ": " + log());
      }
      try {
        if ("+PONG".equals(command("PING"))) {
          return;
        }
      } catch (IOException ignored) {
        // not up yet
      }
      sleep(20);
    }
    throw new IllegalStateException("redis-server did not start within 10s: " + log());
  }

  /** Sends one command with a raw socket (not through any client under test). */
  public String command(String... args) throws IOException {
    return command(port, args);
  }

  /** Sends one command to any loopback port (a sentinel too) with a raw socket. */
  static String command(int port, String... args) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      StringBuilder sb = new StringBuilder("*").append(args.length).append("\r\n");
      for (String a : args) {
        byte[] b = a.getBytes(StandardCharsets.UTF_8);
        sb.append('$').append(b.length).append("\r\n").append(a).append("\r\n");
      }
      out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      return readReply(s.getInputStream());
    }
  }

  /** A simple value as a string: +OK, :12, the bulk string, "(nil)", or the error line. */
  private static String readReply(InputStream in) throws IOException {
    String line = readLine(in);
    char type = line.charAt(0);
    switch (type) {
      case '$':
        int len = Integer.parseInt(line.substring(1));
        if (len < 0) {
          return "(nil)";
        }
        byte[] b = in.readNBytes(len + 2);
        return new String(b, 0, len, StandardCharsets.UTF_8);
      case '*':
        int n = Integer.parseInt(line.substring(1));
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
          if (i > 0) {
            sb.append(", ");
          }
          sb.append(readReply(in));
        }
        return sb.append(']').toString();
      default:
        return line;
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\r') {
        in.read();
        break;
      }
      sb.append((char) c);
    }
    if (c == -1 && sb.length() == 0) {
      throw new IOException("connection closed");
    }
    return sb.toString();
  }

  /** The value of an integer key, or 0 when absent. */
  public long getLong(String key) {
    try {
      String v = command("GET", key);
      return v.equals("(nil)") ? 0 : Long.parseLong(v);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void flushAll() {
    try {
      command("FLUSHALL");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** SIGKILL: no goodbye to connected clients, exactly like a crashed server. */
  public synchronized void kill9() {
    if (process != null && process.isAlive()) {
      try {
        new ProcessBuilder("kill", "-9", String.valueOf(process.pid())).start().waitFor();
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (IOException | InterruptedException e) {
        process.destroyForcibly();
      }
    }
  }

  public boolean isRunning() {
    return process != null && process.isAlive();
  }

  public String log() {
    try {
      Path p = dir.resolve("redis.log");
      return Files.exists(p) ? Files.readString(p) : "(no log)";
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  @Override
  public synchronized void close() {
    if (process != null) {
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
