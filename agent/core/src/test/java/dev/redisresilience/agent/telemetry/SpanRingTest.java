package dev.redisresilience.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.BitSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SpanRingTest {
  @Test
  void capacityIsTheNextPowerOfTwo() {
    assertThat(new SpanRing<>(1).capacity()).isEqualTo(2);
    assertThat(new SpanRing<>(2048).capacity()).isEqualTo(2048);
    assertThat(new SpanRing<>(2049).capacity()).isEqualTo(4096);
    // an "unbounded" otel.bsp.max.queue.size must not allocate gigabytes up front
    assertThat(new SpanRing<>(Integer.MAX_VALUE).capacity()).isEqualTo(SpanRing.MAX_CAPACITY);
  }

  @Test
  void keepsOrderRefusesWhenFullAndReusesSlotsLapAfterLap() {
    SpanRing<Integer> ring = new SpanRing<>(4);
    assertThat(ring.isEmpty()).isTrue();
    assertThat(ring.poll()).isNull();
    int next = 0;
    int expected = 0;
    for (int lap = 0; lap < 10; lap++) {
      for (int i = 0; i < 4; i++) {
        assertThat(ring.offer(next++)).isTrue();
      }
      assertThat(ring.offer(-1)).as("full").isFalse();
      assertThat(ring.poll()).isEqualTo(expected++);
      assertThat(ring.offer(next++)).as("one slot free again").isTrue();
      for (int i = 0; i < 4; i++) {
        assertThat(ring.poll()).isEqualTo(expected++);
      }
      assertThat(ring.poll()).isNull();
      assertThat(ring.isEmpty()).isTrue();
    }
  }

  @Test
  void manyProducersOneConsumerGetEverySpanExactlyOnce() throws Exception {
    int producers = 4;
    int perProducer = 50_000;
    SpanRing<Integer> ring = new SpanRing<>(64);
    CountDownLatch start = new CountDownLatch(1);
    AtomicInteger refused = new AtomicInteger();
    Thread[] threads = new Thread[producers];
    for (int p = 0; p < producers; p++) {
      int base = p * perProducer;
      threads[p] =
          new Thread(
              () -> {
                try {
                  start.await();
                } catch (InterruptedException e) {
                  return;
                }
                for (int i = 0; i < perProducer; i++) {
                  // a full ring is retried while the consumer catches up (it may be descheduled
                  // for a while on 2 cores), for 20 s at most, then counted
                  long giveUp = 0;
                  while (!ring.offer(base + i)) {
                    long now = System.nanoTime();
                    if (giveUp == 0) {
                      giveUp = now + TimeUnit.SECONDS.toNanos(20);
                    } else if (now - giveUp > 0) {
                      refused.incrementAndGet();
                      break;
                    }
                    Thread.yield();
                  }
                }
              });
      threads[p].start();
    }
    BitSet seen = new BitSet(producers * perProducer);
    int[] lastOfProducer = new int[producers];
    java.util.Arrays.fill(lastOfProducer, -1);
    int received = 0;
    start.countDown();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (received < producers * perProducer - refused.get() && System.nanoTime() < deadline) {
      Integer v = ring.poll();
      if (v == null) {
        Thread.onSpinWait();
        continue;
      }
      assertThat(seen.get(v)).as("delivered twice: " + v).isFalse();
      seen.set(v);
      int p = v / perProducer;
      assertThat(v).as("one producer's spans in its order").isGreaterThan(lastOfProducer[p]);
      lastOfProducer[p] = v;
      received++;
    }
    for (Thread t : threads) {
      t.join(10_000);
    }
    assertThat(refused.get()).isZero();
    assertThat(received).isEqualTo(producers * perProducer);
    assertThat(ring.poll()).isNull();
    assertThat(ring.isEmpty()).isTrue();
  }
}
