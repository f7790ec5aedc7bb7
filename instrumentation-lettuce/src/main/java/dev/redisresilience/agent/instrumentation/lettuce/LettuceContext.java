package dev.redisresilience.agent.instrumentation.lettuce;

/**
 * Per-thread markers the Lettuce advice needs (JDK types only; loaded from the bootstrap path):
 * whether the thread is re-activating a connection (its CLUSTER MYID, re-SUBSCRIBE are the
 * client's own), and whether it is inside a sync call's wait (a cancel there is the sync
 * timeout firing).
 */
public final class LettuceContext {
  private static final ThreadLocal<int[]> FLAGS = ThreadLocal.withInitial(() -> new int[2]);
  private static final int ACTIVATION = 0;
  private static final int AWAIT = 1;

  private LettuceContext() {}

  public static boolean inActivation() {
    return FLAGS.get()[ACTIVATION] > 0;
  }

  public static void enterActivation() {
    FLAGS.get()[ACTIVATION]++;
  }

  public static void exitActivation() {
    FLAGS.get()[ACTIVATION]--;
  }

  public static boolean inAwait() {
    return FLAGS.get()[AWAIT] > 0;
  }

  public static void enterAwait() {
    FLAGS.get()[AWAIT]++;
  }

  public static void exitAwait() {
    FLAGS.get()[AWAIT]--;
  }
}
