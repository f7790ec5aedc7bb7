package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.policy.Backoff;
import dev.redisresilience.agent.policy.Policies;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;

/**
 * The agent's reconnect delay for Lettuce: exponential from {@code reconnect.backoff.base} up to
 * {@code reconnect.backoff.max} with {@code reconnect.jitter} (full by default), computed by the
 * same {@link Backoff} as retries. One per connection watchdog (Lettuce asks the resources for a
 * new one each time), so decorrelated jitter can remember its previous delay; reset when the
 * connection is up again. Read per attempt from the policies in force, so a reload applies to the
 * next attempt. Injected next to Lettuce.
 */
public final class LettuceReconnectDelay extends Delay implements Delay.StatefulDelay {
  /** Lettuce's own delay, used when the policies in force say {@code reconnect.jitter=client}. */
  private final Delay lettuceDefault;

  private long previousNanos;

  LettuceReconnectDelay(Delay lettuceDefault) {
    this.lettuceDefault = lettuceDefault;
  }

  /**
   * DefaultClientResources.reconnectDelay exit: the agent's delay when the resources hold
   * Lettuce's default supplier and the policies do not keep the client's; otherwise {@code delay}.
   */
  public static Delay of(Object supplier, Delay delay) {
    if (supplier != DefaultClientResources.DEFAULT_RECONNECT_DELAY
        || delay == null
        || delay instanceof LettuceReconnectDelay
        || Policies.get().reconnectBackoff() == null) {
      return delay;
    }
    return new LettuceReconnectDelay(delay);
  }

  @Override
  public Duration createDelay(long attempt) {
    Backoff b = Policies.get().reconnectBackoff();
    if (b == null) {
      return lettuceDefault.createDelay(attempt);
    }
    long nanos = b.nanos((int) Math.min(attempt, Integer.MAX_VALUE), previousNanos);
    previousNanos = nanos;
    return Duration.ofNanos(nanos);
  }

  @Override
  public void reset() {
    previousNanos = 0;
  }
}
