package dev.redisresilience.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.policy.ServerRegistry;
import io.opentelemetry.api.OpenTelemetry;
import org.junit.jupiter.api.Test;

class ResilienceTelemetryBoundsTest {
  @Test
  void perServerAttributesLiveNoLongerThanTheServersState() {
    ResilienceTelemetry rt = new ResilienceTelemetry(OpenTelemetry.noop(), "test", "0", true);
    Failure timeout = Failure.timeout(Failure.Phase.MAYBE_SENT, null);
    for (int i = 0; i < 10_000; i++) {
      rt.attemptFailed(timeout, ServerRegistry.server("test", "10.9." + (i / 250) + "." + (i % 250), 6379), false);
    }
    for (int i = 0; i < 100 && rt.serverAttributeCount() > ServerRegistry.RECENT; i++) {
      System.gc();
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
    // only servers the registry still keeps (the 1024 most recent) have attributes cached
    assertThat(rt.serverAttributeCount()).isLessThanOrEqualTo(ServerRegistry.RECENT);
  }
}
