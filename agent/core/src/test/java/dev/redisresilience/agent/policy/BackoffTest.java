package dev.redisresilience.agent.policy;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BackoffTest {
  static final long MS = 1_000_000L;

  @Test
  void exponentialWithoutJitterDoublesUpToTheMaximum() {
    Backoff b = new Backoff(10 * MS, 1000 * MS, Backoff.Jitter.NONE);
    assertThat(b.nanos(1, 0)).isEqualTo(10 * MS);
    assertThat(b.nanos(2, 0)).isEqualTo(20 * MS);
    assertThat(b.nanos(3, 0)).isEqualTo(40 * MS);
    assertThat(b.nanos(8, 0)).isEqualTo(1000 * MS);
    assertThat(b.nanos(100, 0)).isEqualTo(1000 * MS); // no overflow
  }

  @Test
  void jitterStaysWithinItsRange() {
    Backoff full = new Backoff(10 * MS, 1000 * MS, Backoff.Jitter.FULL);
    Backoff equal = new Backoff(10 * MS, 1000 * MS, Backoff.Jitter.EQUAL);
    Backoff decorrelated = new Backoff(10 * MS, 1000 * MS, Backoff.Jitter.DECORRELATED);
    long prev = 0;
    boolean fullVaries = false;
    long firstFull = full.nanos(4, 0);
    for (int i = 0; i < 2000; i++) {
      long f = full.nanos(4, 0);
      assertThat(f).isBetween(0L, 80 * MS);
      fullVaries |= f != firstFull;
      assertThat(equal.nanos(4, 0)).isBetween(40 * MS, 80 * MS);
      long d = decorrelated.nanos(i % 10 + 1, prev);
      assertThat(d).isBetween(10 * MS, 1000 * MS);
      assertThat(d).isLessThanOrEqualTo(Math.max(10 * MS, (prev == 0 ? 10 * MS : prev) * 3));
      prev = d;
    }
    assertThat(fullVaries).isTrue();
  }

  @Test
  void zeroBaseMeansNoWait() {
    assertThat(new Backoff(0, 0, Backoff.Jitter.FULL).nanos(3, 0)).isZero();
  }
}
