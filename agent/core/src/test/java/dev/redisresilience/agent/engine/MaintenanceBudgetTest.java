package dev.redisresilience.agent.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.Telemetry;
import org.junit.jupiter.api.Test;

/** A planned maintenance window is not evidence against the server: its timeouts cost no budget. */
class MaintenanceBudgetTest {
  final RetryCoordinator retries = new RetryCoordinator(Telemetry.jedis().resilience());

  @Test
  void timeoutsDuringMaintenanceDoNotTakeFromTheBudget() {
    ServerState s = ServerRegistry.server("maintenance-budget-test", "127.0.0.1", 40001);
    double full = s.budget().tokens();
    s.markMaintenance(System.nanoTime() + 60_000_000_000L);
    for (int i = 0; i < 20; i++) {
      retries.attemptEnded(null, s, Failure.timeout(Failure.Phase.MAYBE_SENT, null));
    }
    assertThat(s.budget().tokens()).isEqualTo(full);
  }

  @Test
  void outsideMaintenanceTheSameTimeoutsDo() {
    ServerState s = ServerRegistry.server("maintenance-budget-test", "127.0.0.1", 40002);
    double full = s.budget().tokens();
    s.markMaintenance(System.nanoTime() - 1); // a window that has ended
    for (int i = 0; i < 20; i++) {
      retries.attemptEnded(null, s, Failure.timeout(Failure.Phase.MAYBE_SENT, null));
    }
    assertThat(s.budget().tokens()).isLessThan(full);
  }
}
