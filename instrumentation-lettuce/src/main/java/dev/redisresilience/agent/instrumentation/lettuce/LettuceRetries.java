package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.engine.RetryCoordinator;
import dev.redisresilience.agent.telemetry.Telemetry;

/** The shared retry engine, for Lettuce's telemetry. Injected next to Lettuce. */
final class LettuceRetries {
  private LettuceRetries() {}

  static RetryCoordinator coordinator() {
    return new RetryCoordinator(Telemetry.lettuce().resilience());
  }
}
