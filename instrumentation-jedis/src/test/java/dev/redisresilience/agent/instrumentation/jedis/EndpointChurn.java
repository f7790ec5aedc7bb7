package dev.redisresilience.agent.instrumentation.jedis;

import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;

/**
 * Connection states for many distinct endpoint names, made the way the helper makes them for a
 * new connection (server, peer, then its server state and endpoint), a bounded number open at a
 * time, for the endpoint-churn tests. No network: the names are what churns (IP changes, DNS,
 * handoffs), and the agent's registries are keyed by them.
 */
final class EndpointChurn {
  static final int NAMES = 10_000;
  /** Connections open at any one time during the churn. */
  static final int OPEN = 50;
  static final int PORT = 6379;

  private EndpointChurn() {}

  /** The i-th of {@link #NAMES} distinct loopback names. */
  static String name(int i) {
    return "127.1." + (i / 250) + "." + (i % 250 + 1);
  }

  /** One connection's state to {@code address}, as JedisConnections builds it on connect. */
  static JedisConnState connect(String address, int port) {
    JedisConnState s = new JedisConnState();
    s.server(address, port);
    s.peer(address, port, address);
    s.serverState();
    s.endpoint();
    return s;
  }

  /** Connects to every name once, {@link #OPEN} at a time, and closes them all. */
  static void churn() {
    ArrayDeque<JedisConnState> open = new ArrayDeque<>();
    for (int i = 0; i < NAMES; i++) {
      open.addLast(connect(name(i), PORT));
      if (open.size() > OPEN) {
        open.removeFirst();
      }
    }
    open.clear();
  }

  /** Heap in use after full collections (bounded: 5 rounds). */
  static long retainedHeap() {
    for (int i = 0; i < 5; i++) {
      System.gc();
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
