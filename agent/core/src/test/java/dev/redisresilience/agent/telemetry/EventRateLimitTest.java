package dev.redisresilience.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class EventRateLimitTest {
  static final long SECOND = 1_000_000_000L;
  final EventRateLimit limit = new EventRateLimit(5);
  final Object serverA = new Object();
  final Object serverB = new Object();

  int allowed(Object server, String event, int tries, long now) {
    int n = 0;
    for (int i = 0; i < tries; i++) {
      if (limit.allow(server, event, now)) {
        n++;
      }
    }
    return n;
  }

  @Test
  void atMostFivePerServerAndEventNameInOneSecond() {
    assertThat(allowed(serverA, "connected", 100, 0)).isEqualTo(5);
    assertThat(allowed(serverA, "connected", 100, SECOND - 1)).isEqualTo(0);
  }

  @Test
  void serversAndEventNamesHaveTheirOwnAllowance() {
    assertThat(allowed(serverA, "connected", 10, 0)).isEqualTo(5);
    assertThat(allowed(serverA, "disconnected", 10, 0)).isEqualTo(5);
    assertThat(allowed(serverB, "connected", 10, 0)).isEqualTo(5);
    assertThat(limit.size()).isEqualTo(2);
  }

  @Test
  void theAllowanceComesBackAfterASecond() {
    assertThat(allowed(serverA, "failed", 10, 0)).isEqualTo(5);
    assertThat(allowed(serverA, "failed", 10, SECOND)).isEqualTo(5);
    assertThat(allowed(serverA, "failed", 10, 2 * SECOND + 500)).isEqualTo(5);
    assertThat(allowed(serverA, "failed", 1, 3 * SECOND)).isEqualTo(0); // window began at 2s + 500ns
  }

  @Test
  void aServerNoLongerReferencedIsForgotten() {
    for (int i = 0; i < 10_000; i++) {
      limit.allow(new Object(), "failed", 0);
    }
    for (int i = 0; i < 100 && limit.size() > 100; i++) {
      System.gc();
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
    assertThat(limit.size()).isLessThanOrEqualTo(100);
  }
}
