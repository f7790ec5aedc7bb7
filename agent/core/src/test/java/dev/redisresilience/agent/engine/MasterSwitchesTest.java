package dev.redisresilience.agent.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.policy.ServerState;
import org.junit.jupiter.api.Test;

/** Which failures start a failover's downtime, and how the refusals end. */
class MasterSwitchesTest {
  @Test
  void roleRefusalsStartTheDowntimeOtherFailuresDoNot() {
    assertThat(MasterSwitches.refusedForRole(Failure.server("READONLY", null))).isTrue();
    assertThat(MasterSwitches.refusedForRole(Failure.server("MASTERDOWN", null))).isTrue();
    assertThat(MasterSwitches.refusedForRole(Failure.server("NOREPLICAS", null))).isTrue();
    assertThat(MasterSwitches.refusedForRole(Failure.server("ERR", null))).isFalse();
    assertThat(MasterSwitches.refusedForRole(Failure.server("LOADING", null))).isFalse();
    assertThat(MasterSwitches.refusedForRole(Failure.connectFailed(null))).isFalse();
  }

  @Test
  void theFirstRefusalCountsUntilTheRefusalsEnd() {
    ServerState s = ServerRegistry.server("master-switches-test", "127.0.0.1", 1);
    assertThat(s.refusingWritesEnded(100)).isEqualTo(-1); // none seen
    s.markRefusingWrites(1_000);
    s.markRefusingWrites(5_000); // a later refusal does not move the start
    assertThat(s.refusingWritesEnded(9_000)).isEqualTo(8_000);
    assertThat(s.refusingWritesEnded(10_000)).isEqualTo(-1); // forgotten once ended
  }
}
