package dev.redisresilience.agent.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

class SharedInstancesTest {
  static final int RECENT = 100;
  static final int KEYS = 10_000;

  /** Something a connection would hold (a server's state). */
  static final class State {
    final String key;

    State(String key) {
      this.key = key;
    }
  }

  /** Collects until {@code size} reaches {@code target} (bounded: 100 rounds). */
  static int collectUntil(IntSupplier size, int target) {
    for (int i = 0; i < 100 && size.getAsInt() > target; i++) {
      System.gc();
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
    return size.getAsInt();
  }

  @Test
  void churnThroughTenThousandKeysKeepsOnlyTheRecentAndTheHeld() {
    SharedInstances<String, State> m = new SharedInstances<>(RECENT);
    State held = m.get("held", State::new); // a long-lived connection's server
    ArrayDeque<State> open = new ArrayDeque<>(); // 50 connections open at any time
    for (int i = 0; i < KEYS; i++) {
      open.addLast(m.get("10.0." + (i / 250) + "." + (i % 250), State::new));
      if (open.size() > 50) {
        open.removeFirst();
      }
    }
    open.clear();
    assertThat(m.recentSize()).isEqualTo(RECENT);
    // exactly the 100 recent keys plus the held one: all 9,900 others were forgotten
    assertThat(collectUntil(m::size, RECENT + 1)).isEqualTo(RECENT + 1);
    // evicted from the recent set long ago, yet still the same instance: never split
    assertThat(m.get("held", State::new)).isSameAs(held);
  }

  @Test
  void anIdleButRecentKeyKeepsItsInstanceThroughCollection() {
    SharedInstances<String, State> m = new SharedInstances<>(RECENT);
    int identity = System.identityHashCode(m.get("server-in-outage", State::new));
    for (int i = 0; i < RECENT - 1; i++) {
      m.get("other-" + i, State::new);
    }
    for (int i = 0; i < 5; i++) {
      System.gc(); // nothing is held: only the recent set keeps instances
    }
    assertThat(m.size()).isEqualTo(RECENT);
    assertThat(System.identityHashCode(m.get("server-in-outage", State::new))).isEqualTo(identity);
  }

  @Test
  void concurrentFirstLookupsOfOneKeyShareOneInstance() throws Exception {
    SharedInstances<String, State> m = new SharedInstances<>(RECENT);
    State[] seen = new State[8];
    Thread[] threads = new Thread[seen.length];
    java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
    for (int t = 0; t < threads.length; t++) {
      int n = t;
      threads[t] =
          new Thread(
              () -> {
                try {
                  start.await();
                } catch (InterruptedException e) {
                  return;
                }
                seen[n] = m.get("one", State::new);
              });
      threads[t].start();
    }
    start.countDown();
    for (Thread t : threads) {
      t.join(5000);
    }
    for (State s : seen) {
      assertThat(s).isNotNull().isSameAs(seen[0]);
    }
  }
}
