package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.telemetry.Operation;

/**
 * The logical operation running on this thread, if any: a {@code UnifiedJedis} call, a legacy
 * {@code Jedis} call or a pipeline/transaction step. Connection-level advice uses it to tell an
 * attempt of an operation from a new operation (a legacy {@code Jedis} call). It is a context, not
 * a channel between enter and exit advice: that state travels in the advice's return value.
 */
public final class JedisContext {
  private static final ThreadLocal<Operation[]> CURRENT = ThreadLocal.withInitial(() -> new Operation[1]);

  private JedisContext() {}

  public static Operation current() {
    return CURRENT.get()[0];
  }

  /** Makes {@code op} current and returns the previous one, to be restored with {@link #restore}. */
  public static Operation enter(Operation op) {
    Operation[] slot = CURRENT.get();
    Operation prev = slot[0];
    slot[0] = op;
    return prev;
  }

  public static void restore(Operation prev) {
    CURRENT.get()[0] = prev;
  }
}
