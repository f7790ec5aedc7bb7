package dev.redisresilience.agent.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.policy.Policies;
import dev.redisresilience.agent.policy.RetryPolicy;
import org.junit.jupiter.api.Test;

/** Which retryable failures take from a server's retry budget. */
class RetryBudgetChargeTest {
  @Test
  void aFailoversRoleRefusalsCostNothingOtherRetryableErrorsDo() {
    // defaults: retry.on has MASTERDOWN and READONLY
    RetryPolicy p = Policies.from(AgentConfig.defaults()).retries();
    assertThat(RetryCoordinator.chargesBudget(p, Failure.server("READONLY", null))).isFalse();
    assertThat(RetryCoordinator.chargesBudget(p, Failure.server("MASTERDOWN", null))).isFalse();
    assertThat(RetryCoordinator.chargesBudget(p, Failure.server("LOADING", null))).isTrue();
    assertThat(RetryCoordinator.chargesBudget(p, Failure.connectFailed(null))).isTrue();
  }
}
