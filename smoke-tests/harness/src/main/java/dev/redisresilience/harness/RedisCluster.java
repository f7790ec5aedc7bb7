package dev.redisresilience.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis Cluster of N primaries (no replicas) on loopback: N redis-server processes in
 * cluster mode, slots split evenly with CLUSTER ADDSLOTSRANGE, joined with CLUSTER MEET.
 */
public final class RedisCluster implements AutoCloseable {
  private final List<RedisServer> nodes;

  private RedisCluster(List<RedisServer> nodes) {
    this.nodes = nodes;
  }

  public static RedisCluster start(int primaries) {
    List<RedisServer> nodes = new ArrayList<>();
    try {
      for (int i = 0; i < primaries; i++) {
        nodes.add(
            RedisServer.start(
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "5000"));
      }
      int per = 16384 / primaries;
      for (int i = 0; i < primaries; i++) {
        int from = i * per;
        int to = i == primaries - 1 ? 16383 : from + per - 1;
        expectOk(nodes.get(i).command("CLUSTER", "ADDSLOTSRANGE", String.valueOf(from), String.valueOf(to)));
      }
      for (int i = 1; i < primaries; i++) {
        expectOk(nodes.get(0).command("CLUSTER", "MEET", "127.0.0.1", String.valueOf(nodes.get(i).port())));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!allOk(nodes)) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("cluster did not reach cluster_state:ok within 30s");
        }
        Thread.sleep(100);
      }
      return new RedisCluster(nodes);
    } catch (IOException e) {
      nodes.forEach(RedisServer::close);
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      nodes.forEach(RedisServer::close);
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (RuntimeException e) {
      nodes.forEach(RedisServer::close);
      throw e;
    }
  }

  private static boolean allOk(List<RedisServer> nodes) throws IOException {
    for (RedisServer n : nodes) {
      String info = n.command("CLUSTER", "INFO");
      if (!info.contains("cluster_state:ok") || !info.contains("cluster_known_nodes:" + nodes.size())) {
        return false;
      }
      // every node must see every slot, or clients may get a partial map
      String slots = n.command("CLUSTER", "SLOTS");
      if (slots.split("127.0.0.1", -1).length - 1 < nodes.size()) {
        return false;
      }
    }
    return true;
  }

  private static void expectOk(String reply) {
    if (!"+OK".equals(reply)) {
      throw new IllegalStateException("unexpected reply " + reply);
    }
  }

  public List<RedisServer> nodes() {
    return Collections.unmodifiableList(nodes);
  }

  /** The node that owns the slot of {@code key}. */
  public RedisServer nodeFor(String key) {
    try {
      long slot = Long.parseLong(nodes.get(0).command("CLUSTER", "KEYSLOT", key).substring(1));
      int per = 16384 / nodes.size();
      return nodes.get((int) Math.min(slot / per, nodes.size() - 1));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void flushAll() {
    nodes.forEach(RedisServer::flushAll);
  }

  @Override
  public void close() {
    nodes.forEach(RedisServer::close);
  }
}
