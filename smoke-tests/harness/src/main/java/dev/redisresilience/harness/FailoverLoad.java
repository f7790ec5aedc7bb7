package dev.redisresilience.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * INCR load on one key during a SENTINEL FAILOVER, whatever the client: 4 threads (the first
 * one as an application that keeps its connection for a batch of calls), at most
 * {@link #MAX_CALLS} calls and a bounded time, running from before the failover until 2 s after
 * it completed. Counts acknowledged calls and failed ones by kind, and the calls that failed once
 * the failover was complete (the new master taking writes): an application that recovers by
 * itself has none.
 */
public final class FailoverLoad {
  public static final int MAX_CALLS = 20000;
  private static final int THREADS = 4;

  /** One INCR of the key through the client under test. */
  public interface Incr {
    /** @param heldConnection as an application that keeps a connection for many calls */
    void incr(boolean heldConnection);
  }

  /** What the load saw. */
  public static final class Result {
    public RedisServer oldMaster;
    public RedisServer newMaster;
    public int calls;
    /** Calls acknowledged, the one before the load included. */
    public long acknowledged;
    /** Failed calls by kind (the classifier's names). */
    public final Map<String, AtomicLong> failures = new ConcurrentHashMap<>();
    /** Calls that started 200 ms or more after the failover completed, and failed. */
    public long failedAfterFailover;
    public long clientSwitchedMillis = -1;
    public long failoverMillis;
    /** From the failover's completion to the first call after it that succeeded; -1: none. */
    public long recoveredMillis = -1;

    public long failed() {
      return failures.values().stream().mapToLong(AtomicLong::get).sum();
    }

    public long failed(java.util.Set<String> kinds) {
      return failures.entrySet().stream()
          .filter(e -> kinds.contains(e.getKey()))
          .mapToLong(e -> e.getValue().get())
          .sum();
    }

    @Override
    public String toString() {
      return "failover " + oldMaster.port() + " -> " + newMaster.port() + ": calls " + calls
          + ", acknowledged " + acknowledged + ", failed " + failures + ", failed after the failover "
          + failedAfterFailover + ", client switched after " + clientSwitchedMillis
          + " ms, failover complete after " + failoverMillis + " ms, first success after that "
          + recoveredMillis + " ms";
    }
  }

  private FailoverLoad() {}

  /**
   * Runs {@code incr} once, then the load around {@code sentinels.failover()}.
   *
   * @param clientSwitched true once the client under test has switched to the new master
   * @param classify a failed call's kind (READONLY, NOREPLICAS, an exception's name ...)
   */
  public static Result run(
      RedisSentinels sentinels,
      Incr incr,
      BooleanSupplier clientSwitched,
      Function<RuntimeException, String> classify)
      throws InterruptedException {
    Result r = new Result();
    r.oldMaster = sentinels.master();
    incr.incr(false); // 1, before the load
    AtomicLong acknowledged = new AtomicLong(1);
    AtomicLong failedAfter = new AtomicLong();
    AtomicLong completedAt = new AtomicLong();
    AtomicLong firstOkAfter = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger calls = new AtomicInteger();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    List<Thread> load = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      boolean holds = t == 0;
      Thread th =
          new Thread(
              () -> {
                while (!stop.get() && calls.incrementAndGet() <= MAX_CALLS && System.nanoTime() < deadline) {
                  long completed = completedAt.get();
                  // a margin for the calls already on their way when the failover completed
                  boolean after = completed != 0 && System.nanoTime() - completed > 200_000_000L;
                  try {
                    incr.incr(holds);
                    acknowledged.incrementAndGet();
                    if (after) {
                      firstOkAfter.compareAndSet(0, System.nanoTime());
                    }
                  } catch (RuntimeException e) {
                    // refused past the retry policy: counted by kind, not hidden
                    r.failures.computeIfAbsent(classify.apply(e), k -> new AtomicLong()).incrementAndGet();
                    if (after) {
                      failedAfter.incrementAndGet();
                    }
                  }
                  sleep(5);
                }
              },
              "incr-load-" + t);
      th.start();
      load.add(th);
    }
    AtomicLong switchedAt = new AtomicLong();
    Thread watch =
        new Thread(
            () -> {
              while (!clientSwitched.getAsBoolean() && System.nanoTime() < deadline) {
                sleep(10);
              }
              switchedAt.set(System.nanoTime());
            },
            "switch-watch");
    watch.start();
    try {
      sleep(500);
      long start = System.nanoTime();
      r.newMaster = sentinels.failover();
      long done = System.nanoTime();
      completedAt.set(done);
      watch.join(TimeUnit.SECONDS.toMillis(60));
      sleep(2000); // calls on connections borrowed before the switch, and new ones
      r.failoverMillis = TimeUnit.NANOSECONDS.toMillis(done - start);
      r.clientSwitchedMillis = TimeUnit.NANOSECONDS.toMillis(switchedAt.get() - start);
      if (firstOkAfter.get() != 0) {
        r.recoveredMillis = TimeUnit.NANOSECONDS.toMillis(firstOkAfter.get() - done);
      }
    } finally {
      stop.set(true);
      for (Thread th : load) {
        th.join(TimeUnit.SECONDS.toMillis(30));
      }
    }
    r.calls = Math.min(calls.get(), MAX_CALLS);
    r.acknowledged = acknowledged.get();
    r.failedAfterFailover = failedAfter.get();
    return r;
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
