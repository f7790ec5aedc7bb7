package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.PolicyOverride;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Lettuce's default reconnect delay (exponential, no jitter: every client of a restarted server
 * reconnects at the same instants) is replaced by the agent's jittered one; a Delay the
 * application configured is left alone.
 */
class LettuceReconnectDelayTest {
  static final long BASE_MS = 100;
  static final long MAX_MS = 10_000;

  static Delay delayOf(ClientResources resources) {
    try {
      return resources.reconnectDelay();
    } finally {
      resources.shutdown(0, 0, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  void theDefaultDelayIsFullJitterUpToBaseTimesTwoToTheAttempt() {
    Delay delay = delayOf(DefaultClientResources.create());
    Delay lettuces = Delay.exponential();
    for (int attempt = 1; attempt <= 12; attempt++) {
      long bound = Math.min(MAX_MS, BASE_MS << (attempt - 1));
      Set<Long> seen = new HashSet<>();
      int sameAsLettuce = 0;
      for (int i = 0; i < 200; i++) {
        long ms = delay.createDelay(attempt).toMillis();
        assertThat(ms).as("attempt " + attempt).isBetween(0L, bound);
        seen.add(ms);
        if (ms == lettuces.createDelay(attempt).toMillis()) {
          sameAsLettuce++;
        }
      }
      // random over the whole range, not one deterministic value per attempt
      assertThat(seen.size()).as("attempt " + attempt).isGreaterThan(50);
      assertThat(sameAsLettuce).as("attempt " + attempt).isLessThan(20);
    }
  }

  @Test
  void resourcesBuiltOrMutatedWithTheDefaultGetTheAgentsDelay() {
    ClientResources built = DefaultClientResources.builder().ioThreadPoolSize(1).build();
    ClientResources mutated = built.mutate().computationThreadPoolSize(1).build();
    try {
      assertThat(built.reconnectDelay().getClass().getSimpleName()).isEqualTo("LettuceReconnectDelay");
      assertThat(mutated.reconnectDelay().getClass().getSimpleName()).isEqualTo("LettuceReconnectDelay");
    } finally {
      built.shutdown(0, 0, java.util.concurrent.TimeUnit.SECONDS);
      mutated.shutdown(0, 0, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  void aDelayTheApplicationConfiguredIsLeftAlone() {
    Delay constant = Delay.constant(Duration.ofMillis(7));
    assertThat(delayOf(DefaultClientResources.builder().reconnectDelay(constant).build())).isSameAs(constant);
    // even Lettuce's own exponential delay, when the application chose it explicitly
    Delay exponential = Delay.exponential();
    assertThat(delayOf(DefaultClientResources.builder().reconnectDelay(() -> exponential).build()))
        .isSameAs(exponential);
  }

  @Test
  void theSettingsShapeTheDelay() {
    try (PolicyOverride p =
        PolicyOverride.with("reconnect.backoff.base", "1s", "reconnect.backoff.max", "3s", "reconnect.jitter", "none")) {
      Delay delay = delayOf(DefaultClientResources.create());
      assertThat(delay.createDelay(1)).isEqualTo(Duration.ofSeconds(1));
      assertThat(delay.createDelay(2)).isEqualTo(Duration.ofSeconds(2));
      assertThat(delay.createDelay(3)).isEqualTo(Duration.ofSeconds(3));
      assertThat(delay.createDelay(40)).isEqualTo(Duration.ofSeconds(3));
    }
  }

  @Test
  void jitterClientKeepsLettucesOwnDelay() {
    try (PolicyOverride p = PolicyOverride.with("reconnect.jitter", "client")) {
      Delay delay = delayOf(DefaultClientResources.create());
      assertThat(delay.getClass().getSimpleName()).isNotEqualTo("LettuceReconnectDelay");
      Delay lettuces = Delay.exponential();
      for (int attempt = 1; attempt <= 12; attempt++) {
        assertThat(delay.createDelay(attempt)).isEqualTo(lettuces.createDelay(attempt));
      }
    }
  }
}
