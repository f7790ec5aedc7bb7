package dev.redisresilience.agent.policy;

import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with jitter (AWS architecture blog's variants). */
public final class Backoff {
  /** How randomness is mixed into the exponential value. */
  public enum Jitter {
    FULL,
    EQUAL,
    DECORRELATED,
    NONE
  }

  private final long baseNanos;
  private final long maxNanos;
  private final Jitter jitter;

  public Backoff(long baseNanos, long maxNanos, Jitter jitter) {
    this.baseNanos = Math.max(0, baseNanos);
    this.maxNanos = Math.max(this.baseNanos, maxNanos);
    this.jitter = jitter;
  }

  /**
   * The wait before retry number {@code retry} (1 = the first retry). {@code previousNanos} is
   * the previous wait, used by decorrelated jitter.
   */
  public long nanos(int retry, long previousNanos) {
    if (baseNanos == 0) {
      return 0;
    }
    long exp = baseNanos << Math.min(Math.max(retry - 1, 0), 30);
    long cap = exp <= 0 || exp > maxNanos ? maxNanos : exp;
    ThreadLocalRandom r = ThreadLocalRandom.current();
    switch (jitter) {
      case NONE:
        return cap;
      case EQUAL:
        return cap / 2 + r.nextLong(cap / 2 + 1);
      case DECORRELATED:
        long prev = previousNanos <= 0 ? baseNanos : previousNanos;
        long upper = Math.min(maxNanos, prev * 3);
        return upper <= baseNanos ? baseNanos : baseNanos + r.nextLong(upper - baseNanos + 1);
      case FULL:
      default:
        return r.nextLong(cap + 1);
    }
  }

  public long maxNanos() {
    return maxNanos;
  }
}
