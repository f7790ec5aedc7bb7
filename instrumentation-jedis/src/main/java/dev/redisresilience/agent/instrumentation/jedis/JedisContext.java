package dev.redisresilience.agent.instrumentation.jedis;

/**
 * The logical operation running on this thread, if any: a {@code UnifiedJedis} call, a legacy
 * {@code Jedis} call or a pipeline/transaction step. Connection-level advice uses it to tell an
 * attempt of an operation from a new operation (a legacy {@code Jedis} call). It is a context, not
 * a channel between enter and exit advice: that state travels in the advice's return value. It
 * lives in the thread's {@link JedisFrame}, beside the records a sync call reuses.
 */
public final class JedisContext {
  private static final ThreadLocal<JedisFrame> FRAME = ThreadLocal.withInitial(JedisFrame::new);

  private JedisContext() {}

  /** This thread's frame: one thread-local look-up for what a command needs of it. */
  public static JedisFrame frame() {
    return FRAME.get();
  }

  public static JedisCall current() {
    return FRAME.get().current;
  }

  /** Makes {@code op} current and returns the previous one, to be restored with {@link #restore}. */
  public static JedisCall enter(JedisCall call) {
    JedisFrame f = FRAME.get();
    JedisCall prev = f.current;
    f.current = call;
    return prev;
  }

  public static void restore(JedisCall prev) {
    FRAME.get().current = prev;
  }
}
