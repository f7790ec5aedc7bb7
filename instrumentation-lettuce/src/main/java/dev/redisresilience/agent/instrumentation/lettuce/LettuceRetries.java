package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.engine.RetryCoordinator;
import dev.redisresilience.agent.telemetry.Telemetry;

/**
 * The shared retry engine, for Lettuce's telemetry. JDK and agent types only, so it loads from
 * the bootstrap path: public for the helpers injected next to Lettuce.
 */
public final class LettuceRetries {
  private LettuceRetries() {}

  public static RetryCoordinator coordinator() {
    return new RetryCoordinator(Telemetry.lettuce().resilience());
  }
}
