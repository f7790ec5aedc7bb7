package dev.redisresilience.agent.policy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RetryBudgetTest {
  @Test
  void allowsRetriesWhileMoreThanHalfTheTokensRemain() {
    RetryBudget b = new RetryBudget(10, 0.1);
    assertThat(b.allowsRetry()).isTrue();
    for (int i = 0; i < 4; i++) {
      b.onRetryableFailure();
    }
    assertThat(b.tokens()).isEqualTo(6.0);
    assertThat(b.allowsRetry()).isTrue();
    b.onRetryableFailure();
    assertThat(b.tokens()).isEqualTo(5.0);
    assertThat(b.allowsRetry()).isFalse(); // half or fewer: no retries
  }

  @Test
  void aFullOutageStopsRetriesAndSuccessesRefill() {
    RetryBudget b = new RetryBudget(10, 0.1);
    for (int i = 0; i < 1000; i++) {
      b.onRetryableFailure();
    }
    assertThat(b.tokens()).isZero();
    assertThat(b.allowsRetry()).isFalse();
    for (int i = 0; i < 50; i++) {
      b.onSuccess();
    }
    assertThat(b.tokens()).isEqualTo(5.0);
    assertThat(b.allowsRetry()).isFalse();
    b.onSuccess();
    assertThat(b.allowsRetry()).isTrue();
    for (int i = 0; i < 1000; i++) {
      b.onSuccess();
    }
    assertThat(b.tokens()).isEqualTo(10.0); // never above the maximum
  }

  @Test
  void zeroTokensMeansNoBudget() {
    RetryBudget b = new RetryBudget(0, 0.1);
    b.onRetryableFailure();
    assertThat(b.enabled()).isFalse();
    assertThat(b.allowsRetry()).isTrue();
  }
}
