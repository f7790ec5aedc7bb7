package dev.redisresilience.agent.instrumentation.jedis;

/**
 * A thread's Jedis state (bootstrap side, JDK and agent types only; public for the injected
 * helpers): the operation running on it ({@link JedisContext}) and the records a sync call reuses
 * instead of allocating them per command — one call (with its operation and argument view) and
 * one attempt, each taken while free and given back when its operation or attempt is over. A
 * record that is taken (a call made from inside another call's callback, an attempt nested in a
 * retry) leaves the next one to a fresh allocation.
 */
public final class JedisFrame {
  /** The logical operation running on this thread, or null. */
  public JedisCall current;
  /** The reusable call (null until the first one); {@link #callTaken} while one runs on it. */
  public JedisCall call;
  public boolean callTaken;
  /** The reusable attempt (null until the first one); {@link #attemptTaken} while in use. */
  public JedisAttempt attempt;
  public boolean attemptTaken;

  /** This thread's reusable attempt for {@code call}, or a new one when it is in use. */
  public JedisAttempt takeAttempt(JedisCall call, boolean owner, JedisConnState state) {
    if (attemptTaken) {
      return new JedisAttempt(call, owner, state);
    }
    JedisAttempt a = attempt;
    if (a == null) {
      a = new JedisAttempt(call, owner, state);
      a.frame = this;
      attempt = a;
    } else {
      a.restart(call, owner, state);
    }
    attemptTaken = true;
    return a;
  }

  /** The attempt is over: the thread's reusable one is free again (others are garbage). */
  public static void giveBack(JedisAttempt a) {
    JedisFrame f = a.frame;
    if (f != null) {
      a.restart(null, false, null); // nothing of it stays reachable
      f.attemptTaken = false;
    }
  }
}
