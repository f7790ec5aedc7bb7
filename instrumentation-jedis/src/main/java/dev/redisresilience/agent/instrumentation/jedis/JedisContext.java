package dev.redisresilience.agent.instrumentation.jedis;

/**
 * The logical operation running on this thread, if any: a {@code UnifiedJedis} call, a legacy
 * {@code Jedis} call or a pipeline/transaction step. Connection-level advice uses it to tell an
 * attempt of an operation from a new operation (a legacy {@code Jedis} call). It is a context, not
 * a channel between enter and exit advice: that state travels in the advice's return value.
 */
public final class JedisContext {
  private static final ThreadLocal<JedisCall[]> CURRENT = ThreadLocal.withInitial(() -> new JedisCall[1]);

  private JedisContext() {}

  public static JedisCall current() {
    return CURRENT.get()[0];
  }

  /** Makes {@code op} current and returns the previous one, to be restored with {@link #restore}. */
  public static JedisCall enter(JedisCall call) {
    JedisCall[] slot = CURRENT.get();
    JedisCall prev = slot[0];
    slot[0] = call;
    return prev;
  }

  public static void restore(JedisCall prev) {
    CURRENT.get()[0] = prev;
  }
}
