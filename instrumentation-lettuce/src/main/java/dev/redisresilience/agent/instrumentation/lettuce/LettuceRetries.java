package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.engine.RetryCoordinator;
import dev.redisresilience.agent.telemetry.ResilienceTelemetry;
import dev.redisresilience.agent.telemetry.Telemetry;

/**
 * The shared retry engine, for Lettuce's telemetry. JDK and agent types only, so it loads from
 * the bootstrap path: public for the helpers injected next to Lettuce.
 */
public final class LettuceRetries {
  private LettuceRetries() {}

  private static volatile RetryCoordinator cached;

  /** The coordinator of the telemetry installed now (one per installation, not per call). */
  public static RetryCoordinator coordinator() {
    ResilienceTelemetry t = Telemetry.lettuce().resilience();
    RetryCoordinator c = cached;
    if (c == null || !c.reportsTo(t)) {
      c = new RetryCoordinator(t);
      cached = c;
    }
    return c;
  }
}
