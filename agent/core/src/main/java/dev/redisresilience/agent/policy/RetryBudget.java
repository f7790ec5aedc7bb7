package dev.redisresilience.agent.policy;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A retry budget per client and server, as gRPC's retry throttling: a bucket of {@code max}
 * tokens; every retryable failure takes one, every successful operation gives {@code ratio} back;
 * retries are allowed only while more than half the tokens remain. In a full outage every attempt
 * fails, so after {@code max/2} failures no operation is retried until the server answers again:
 * the agent cannot turn an outage into a retry storm. Chosen over a percent-of-requests budget
 * (Envoy) because it needs no count of requests in flight, and stays exact at low traffic.
 */
public final class RetryBudget {
  private static final long SCALE = 1000; // milli-tokens
  private final long max;
  private final long ratio;
  private final AtomicLong tokens;

  public RetryBudget(int maxTokens, double ratio) {
    this.max = maxTokens * SCALE;
    this.ratio = Math.round(ratio * SCALE);
    this.tokens = new AtomicLong(this.max);
  }

  /** A budget of 0 tokens means: no budget, retries are always allowed. */
  public boolean enabled() {
    return max > 0;
  }

  public boolean allowsRetry() {
    return max == 0 || tokens.get() * 2 > max;
  }

  public void onRetryableFailure() {
    if (max == 0) {
      return;
    }
    long t;
    do {
      t = tokens.get();
      if (t == 0) {
        return;
      }
    } while (!tokens.compareAndSet(t, Math.max(0, t - SCALE)));
  }

  public void onSuccess() {
    if (max == 0) {
      return;
    }
    long t = tokens.get();
    if (t >= max) {
      return; // the common case: full, nothing to write
    }
    while (!tokens.compareAndSet(t, Math.min(max, t + ratio))) {
      t = tokens.get();
    }
  }

  /** Current tokens, for tests and telemetry. */
  public double tokens() {
    return tokens.get() / (double) SCALE;
  }
}
