package dev.redisresilience.agent.telemetry;

import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * How many log records of one event name one server may emit per second, so that a reconnect
 * storm (thousands of connections failing at once) cannot flood the log pipeline. A fixed
 * one-second window per (server, event name); what does not fit is dropped and counted by the
 * caller. Only failures and state changes come here, never the command path, so a lock is fine.
 * Weak keys: an entry lives as long as its server's state (ServerRegistry bounds those).
 */
final class EventRateLimit {
  static final int PER_SECOND = 5;
  private static final long WINDOW_NANOS = 1_000_000_000L;

  private final int perWindow;
  private final Map<Object, Map<String, long[]>> windows = new WeakHashMap<>();

  EventRateLimit(int perWindow) {
    this.perWindow = perWindow;
  }

  /** True when a record {@code event} for {@code server} may be emitted at {@code nowNanos}. */
  synchronized boolean allow(Object server, String event, long nowNanos) {
    Map<String, long[]> byName = windows.computeIfAbsent(server, k -> new HashMap<>(8));
    long[] w = byName.get(event); // {window start, records in it}
    if (w == null) {
      byName.put(event, new long[] {nowNanos, 1});
      return true;
    }
    if (nowNanos - w[0] >= WINDOW_NANOS) {
      w[0] = nowNanos;
      w[1] = 0;
    }
    if (w[1] >= perWindow) {
      return false;
    }
    w[1]++;
    return true;
  }

  /** Servers tracked (tests). */
  synchronized int size() {
    return windows.size();
  }
}
