package dev.redisresilience.agent.telemetry;

import dev.redisresilience.agent.AgentLog;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Faults inside the agent itself (a bug, an unexpected client version). Advice suppresses every
 * throwable and routes it here; the application's call goes on unaffected. Each fault is counted
 * ({@code redis.resilience.agent.faults}) and the first of each kind is logged with its stack.
 */
public final class AgentFaults {
  private static final int MAX_KINDS = 256;
  private static final Set<String> seen = ConcurrentHashMap.newKeySet();
  private static final AtomicLong total = new AtomicLong();

  private AgentFaults() {}

  /** Called by ByteBuddy's suppression handler in every advice, and by the bridge. */
  public static void record(Throwable t) {
    try {
      total.incrementAndGet();
      String kind = kindOf(t);
      Telemetry.get().recordFault(kind);
      if (seen.size() < MAX_KINDS && seen.add(kind)) {
        AgentLog.warn(
            "internal fault (the application's Redis call was not affected; logged once per kind): "
                + kind
                + stack(t));
      }
    } catch (Throwable ignored) {
      // never let fault handling itself fail a Redis call
    }
  }

  public static long total() {
    return total.get();
  }

  static String kindOf(Throwable t) {
    StackTraceElement[] st = t.getStackTrace();
    String where = st.length > 0 ? st[0].getClassName() + "." + st[0].getMethodName() : "?";
    return t.getClass().getName() + " at " + where;
  }

  private static String stack(Throwable t) {
    StringBuilder sb = new StringBuilder();
    if (t.getMessage() != null) {
      sb.append(": ").append(t.getMessage());
    }
    StackTraceElement[] st = t.getStackTrace();
    for (int i = 0; i < Math.min(st.length, 8); i++) {
      sb.append("\n    at ").append(st[i]);
    }
    return sb.toString();
  }
}
