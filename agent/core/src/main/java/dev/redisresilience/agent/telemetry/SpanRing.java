package dev.redisresilience.agent.telemetry;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A bounded lock-free queue of ended spans: many producers (the application's threads), one
 * consumer (the export thread). An array ring with one sequence number per slot (D. Vyukov's
 * bounded queue), so handing a span over allocates nothing, where a linked queue allocates a node
 * per span. {@link #offer} fails when the ring is full; {@link #poll} waits briefly for a span
 * whose producer has claimed its slot but not yet published it, and returns null if that takes
 * longer (a descheduled producer: the next poll gets it).
 */
final class SpanRing<E> {
  private final int mask;
  private final AtomicReferenceArray<E> items;
  private final AtomicLongArray sequences;
  private final AtomicLong tail = new AtomicLong(); // next slot a producer claims
  private volatile long head; // next slot the consumer reads; written by the consumer only

  /**
   * The most slots a ring has: 2^20 (about 12 MB of arrays, allocated up front). A larger
   * otel.bsp.max.queue.size is cut to it (SpanPipeline says so once).
   */
  static final int MAX_CAPACITY = 1 << 20;

  /** Spins of {@link #poll} for a producer between claiming a slot and publishing it. */
  private static final int PUBLISH_SPINS = 256;

  /** A ring of at least {@code minCapacity} slots (the next power of two, at most MAX_CAPACITY). */
  SpanRing(int minCapacity) {
    int capacity =
        minCapacity >= MAX_CAPACITY
            ? MAX_CAPACITY
            : Integer.highestOneBit(Math.max(2, minCapacity) - 1) << 1;
    mask = capacity - 1;
    items = new AtomicReferenceArray<>(capacity);
    sequences = new AtomicLongArray(capacity);
    for (int i = 0; i < capacity; i++) {
      sequences.set(i, i);
    }
  }

  int capacity() {
    return mask + 1;
  }

  /** Any producer thread: false when every slot is taken. */
  boolean offer(E item) {
    long pos = tail.get();
    while (true) {
      int slot = (int) (pos & mask);
      long diff = sequences.getAcquire(slot) - pos;
      if (diff == 0) {
        if (tail.weakCompareAndSetVolatile(pos, pos + 1)) {
          items.setPlain(slot, item);
          sequences.setRelease(slot, pos + 1); // published
          return true;
        }
        pos = tail.get();
      } else if (diff < 0) {
        return false; // the slot still holds a span from one lap ago: full
      } else {
        pos = tail.get(); // another producer took it
      }
    }
  }

  /** The consumer thread only: the oldest published span, or null. */
  E poll() {
    long pos = head;
    int slot = (int) (pos & mask);
    long seq = sequences.getAcquire(slot);
    if (seq != pos + 1) {
      if (tail.get() == pos) {
        return null; // empty
      }
      // claimed, not yet published: its producer is a few instructions away from it (unless
      // descheduled), and the spans behind it are only reachable through it
      for (int i = 0; i < PUBLISH_SPINS && seq != pos + 1; i++) {
        if (i < PUBLISH_SPINS / 2) {
          Thread.onSpinWait();
        } else {
          Thread.yield();
        }
        seq = sequences.getAcquire(slot);
      }
      if (seq != pos + 1) {
        return null;
      }
    }
    E item = items.getPlain(slot);
    items.setPlain(slot, null);
    sequences.setRelease(slot, pos + mask + 1); // free for the producer one lap ahead
    head = pos + 1;
    return item;
  }

  /** Whether no span was claimed past the consumer's position (any thread; a snapshot). */
  boolean isEmpty() {
    return tail.get() == head;
  }
}
