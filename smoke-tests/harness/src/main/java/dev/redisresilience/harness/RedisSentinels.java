package dev.redisresilience.harness;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Sentinel deployment on loopback: a master, one replica ({@code --replicaof}) and three
 * {@code redis-sentinel} processes with quorum 2, each on a free port. Short down-after and
 * failover timeouts so that {@link #failover()} completes in a few seconds. Both servers run with
 * {@code min-replicas-to-write 1}, so a write is refused rather than lost during a failover.
 */
public final class RedisSentinels implements AutoCloseable {
  public static final String MASTER_NAME = "mymaster";
  private static final int SENTINELS = 3;
  /**
   * A master without a replica refuses writes (NOREPLICAS). Without it an old master that the
   * sentinels already replaced would acknowledge writes until it is made a replica, and lose them
   * with its resync: asynchronous replication's known window, which no client can close.
   */
  private static final String[] SAFE_WRITES = {
    "--min-replicas-to-write", "1", "--min-replicas-max-lag", "10"
  };

  private final List<RedisServer> servers;
  private final List<Sentinel> sentinels;

  private RedisSentinels(List<RedisServer> servers, List<Sentinel> sentinels) {
    this.servers = servers;
    this.sentinels = sentinels;
  }

  public static RedisSentinels start() {
    List<RedisServer> servers = new ArrayList<>();
    List<Sentinel> sentinels = new ArrayList<>();
    try {
      RedisServer master = RedisServer.start(SAFE_WRITES);
      servers.add(master);
      List<String> replica = new ArrayList<>(List.of(SAFE_WRITES));
      replica.addAll(List.of("--replicaof", "127.0.0.1", String.valueOf(master.port())));
      servers.add(RedisServer.start(replica.toArray(new String[0])));
      RedisSentinels d = new RedisSentinels(servers, sentinels);
      d.awaitReplicated(master, TimeUnit.SECONDS.toNanos(20));
      for (int i = 0; i < SENTINELS; i++) {
        sentinels.add(Sentinel.start(master.port()));
      }
      d.awaitSentinelsReady();
      return d;
    } catch (RuntimeException e) {
      String logs = sentinels.isEmpty() ? "" : " sentinel log: " + sentinels.get(0).log();
      sentinels.forEach(Sentinel::close);
      servers.forEach(RedisServer::close);
      throw new IllegalStateException(e.getMessage() + logs, e);
    }
  }

  /** The sentinels' ports. */
  public List<Integer> sentinelPorts() {
    List<Integer> ports = new ArrayList<>();
    sentinels.forEach(s -> ports.add(s.port));
    return ports;
  }

  /** Master and replica (in start order, not by role). */
  public List<RedisServer> servers() {
    return Collections.unmodifiableList(servers);
  }

  /** The server the first sentinel reports as master. */
  public RedisServer master() {
    int port = reportedMasterPort(sentinels.get(0));
    return servers.stream()
        .filter(s -> s.port() == port)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("sentinel reports unknown master port " + port));
  }

  /** The server that is not the master. */
  public RedisServer replica() {
    RedisServer m = master();
    return servers.stream().filter(s -> s != m).findFirst().get();
  }

  /**
   * SENTINEL FAILOVER, then waits until every sentinel reports the other server as master, it
   * answers role master and the old master replicates from it. Returns the new master. Once the
   * sentinels report the new master, the old one is made its replica at once rather than at the
   * sentinels' next INFO of it (up to 10 s later, a period Sentinel does not let one configure).
   */
  public RedisServer failover() {
    RedisServer old = master();
    RedisServer next = replica();
    String reply = send(sentinels.get(0).port, "SENTINEL", "FAILOVER", MASTER_NAME);
    if (!"+OK".equals(reply)) {
      throw new IllegalStateException("SENTINEL FAILOVER answered " + reply);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    boolean demoted = false;
    while (true) {
      boolean all = sentinels.stream().allMatch(s -> reportedMasterPort(s) == next.port());
      if (all && !demoted && role(old).equals("master")) {
        // what the sentinels do at their next INFO of the old master (a fixed 10 s period), now
        send(old.port(), "REPLICAOF", "127.0.0.1", String.valueOf(next.port()));
        demoted = true;
      }
      if (all && role(next).equals("master") && linkUp(old) && !failoverInProgress()) {
        return next;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "failover to " + next.port() + " not complete within 30s; sentinel log: "
                + sentinels.get(0).log());
      }
      sleep(50);
    }
  }

  /** A sentinel still runs the failover (+switch-master not yet published). */
  private boolean failoverInProgress() {
    return sentinels.stream()
        .anyMatch(s -> send(s.port, "SENTINEL", "MASTER", MASTER_NAME).contains("failover_in_progress"));
  }

  @Override
  public void close() {
    sentinels.forEach(Sentinel::close);
    servers.forEach(RedisServer::close);
  }

  private void awaitReplicated(RedisServer master, long nanos) {
    long deadline = System.nanoTime() + nanos;
    RedisServer replica = servers.get(1);
    while (!linkUp(replica)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("replica did not sync with " + master.port() + ": " + replica.log());
      }
      sleep(50);
    }
  }

  /** Every sentinel sees the replica and the two other sentinels, and the quorum is reachable. */
  private void awaitSentinelsReady() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String replicaPort = String.valueOf(servers.get(1).port());
    while (true) {
      boolean ready = true;
      for (Sentinel s : sentinels) {
        String replicas = send(s.port, "SENTINEL", "REPLICAS", MASTER_NAME);
        String others = send(s.port, "SENTINEL", "SENTINELS", MASTER_NAME);
        String quorum = send(s.port, "SENTINEL", "CKQUORUM", MASTER_NAME);
        ready &= replicas.contains(replicaPort)
            && countOf(others, "runid") == SENTINELS - 1
            && quorum.startsWith("+OK");
      }
      if (ready) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("sentinels did not see each other within 30s");
      }
      sleep(100);
    }
  }

  private static int countOf(String s, String word) {
    int n = 0;
    for (int i = s.indexOf(word); i >= 0; i = s.indexOf(word, i + 1)) {
      n++;
    }
    return n;
  }

  private static int reportedMasterPort(Sentinel s) {
    String r = send(s.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME); // [host, port]
    String[] parts = r.replace("[", "").replace("]", "").split(", ");
    if (parts.length != 2) {
      throw new IllegalStateException("sentinel " + s.port + " answered " + r);
    }
    return Integer.parseInt(parts[1]);
  }

  private static String role(RedisServer s) {
    String r = send(s.port(), "ROLE"); // [master, ...] or [slave, ...]
    return r.startsWith("[master") ? "master" : "replica";
  }

  /** A replica whose link to its master is up. */
  private static boolean linkUp(RedisServer s) {
    return send(s.port(), "INFO", "replication").contains("master_link_status:up");
  }

  private static String send(int port, String... args) {
    try {
      return RedisServer.command(port, args);
    } catch (IOException e) {
      throw new UncheckedIOException("port " + port + ": " + e.getMessage(), e);
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

  /** One redis-sentinel process; it rewrites its config file, so each has its own. */
  private static final class Sentinel {
    final int port;
    final Path dir;
    final Process process;

    private Sentinel(int port, Path dir, Process process) {
      this.port = port;
      this.dir = dir;
      this.process = process;
    }

    static Sentinel start(int masterPort) {
      int port = Ports.free();
      try {
        Path dir = Files.createTempDirectory("sentinel-" + port + "-");
        Path conf = dir.resolve("sentinel.conf");
        Files.writeString(
            conf,
            String.join(
                "\n",
                "port " + port,
                "bind 127.0.0.1",
                "protected-mode no",
                "daemonize no",
                "dir " + dir,
                "logfile " + dir.resolve("sentinel.log"),
                "sentinel monitor " + MASTER_NAME + " 127.0.0.1 " + masterPort + " 2",
                "sentinel down-after-milliseconds " + MASTER_NAME + " 1000",
                "sentinel failover-timeout " + MASTER_NAME + " 5000",
                "sentinel parallel-syncs " + MASTER_NAME + " 1",
                ""));
        Process p =
            new ProcessBuilder(binary(), conf.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("stdout.log").toFile())
                .start();
        Sentinel s = new Sentinel(port, dir, p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
          if (!p.isAlive()) {
            throw new IllegalStateException("redis-sentinel exited with " + p.exitValue() + ": " + s.log());
          }
          try {
            if ("+PONG".equals(RedisServer.command(port, "PING"))) {
              return s;
            }
          } catch (IOException notUpYet) {
            // retry
          }
          if (System.nanoTime() > deadline) {
            s.close();
            throw new IllegalStateException("redis-sentinel did not start within 10s: " + s.log());
          }
          sleep(20);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    static String binary() {
      for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(File.pathSeparator)) {
        File f = new File(d, "redis-sentinel");
        if (f.canExecute()) {
          return f.getPath();
        }
      }
      throw new IllegalStateException(
          "redis-sentinel is not installed (not on PATH). Install it with"
              + " `apt-get install -y redis-sentinel`; scripts/lib.sh's ensure_tools does this.");
    }

    String log() {
      try {
        Path p = dir.resolve("sentinel.log");
        String text = Files.exists(p) ? Files.readString(p) : "(no log)";
        return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
      } catch (IOException e) {
        return "(log unreadable: " + e + ")";
      }
    }

    void close() {
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
}
