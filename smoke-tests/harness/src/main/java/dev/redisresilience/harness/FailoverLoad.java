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
 * INCR load during a SENTINEL FAILOVER, one key per call, whatever the client: 4 threads (the first
 * one as an application that keeps its connection for a batch of calls), at most
 * {@link #MAX_CALLS} calls and a bounded time, running from before the failover until 2 s after
 * it completed. Counts acknowledged calls and failed ones by kind, and the calls that failed once
 * the failover was complete (the new master taking writes): an application that recovers by
 * itself has none. {@link Result#check()} then reads every call's key on the new master: an INCR
 * that ran twice shows as 2, an acknowledged one that was lost as 0.
 */
public final class FailoverLoad {
  public static final int MAX_CALLS = 20000;
  private static final int THREADS = 4;

  /** One INCR of {@code key} through the client under test. */
  public interface Incr {
    /** @param heldConnection as an application that keeps a connection for many calls */
    void incr(boolean heldConnection, String key);
  }

  /** Every call's key on the new master, against what the call returned. */
  public static final class Check {
    /** Keys whose INCR ran more than once. */
    public long ranTwice;
    /** Acknowledged calls whose key is missing, acknowledged before the start or after completion. */
    public long lostOutsideSwitch;
    /** Acknowledged while the switch ran and missing: what asynchronous replication may drop. */
    public long lostDuringSwitch;
    /** Failed calls whose INCR ran anyway (an outcome the client could not know). */
    public long failedButRan;

    @Override
    public String toString() {
      return "ran twice " + ranTwice + ", acknowledged and lost: " + lostOutsideSwitch
          + " outside the switch, " + lostDuringSwitch + " during it; failed but ran " + failedButRan;
    }
  }

  /** What the load saw. */
  public static final class Result {
    public RedisServer oldMaster;
    public RedisServer newMaster;
    public int calls;
    /** Calls acknowledged, the one before the load included. */
    public long acknowledged;
    /**
     * Calls acknowledged while the switch ran (from the failover's start to its completion): the
     * only writes asynchronous replication may lose at a forced failover (the old master acks
     * them until it is demoted). Writes acknowledged before the start, or after the completion,
     * must all be on the new master.
     */
    public long acknowledgedDuringSwitch;
    /** Failed calls by kind (the classifier's names). */
    public final Map<String, AtomicLong> failures = new ConcurrentHashMap<>();
    /** Calls that started 200 ms or more after the failover completed, and failed. */
    public long failedAfterFailover;
    /** The key prefix: call i INCRs {@code prefix:i} (call 0 before the load). */
    String prefix;
    /** Per call: 1 acknowledged before the switch or after it, 2 acknowledged during it, 0 failed. */
    final Map<Integer, Integer> outcomes = new ConcurrentHashMap<>();
    public long clientSwitchedMillis = -1;
    public long failoverMillis;
    /** From the failover's completion to the first call after it that succeeded; -1: none. */
    public long recoveredMillis = -1;

    /** Reads every call's key on the new master (MGET in batches, no client under test). */
    public Check check() {
      Check c = new Check();
      List<Integer> ids = new ArrayList<>(outcomes.keySet());
      for (int from = 0; from < ids.size(); from += 500) {
        List<Integer> batch = ids.subList(from, Math.min(ids.size(), from + 500));
        String[] args = new String[batch.size() + 1];
        args[0] = "MGET";
        for (int i = 0; i < batch.size(); i++) {
          args[i + 1] = prefix + ":" + batch.get(i);
        }
        String reply;
        try {
          reply = newMaster.command(args);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
        String[] values = reply.substring(1, reply.length() - 1).split(", ");
        for (int i = 0; i < batch.size(); i++) {
          long v = values[i].equals("(nil)") ? 0 : Long.parseLong(values[i]);
          int outcome = outcomes.get(batch.get(i));
          if (v > 1) {
            c.ranTwice++;
          }
          if (v == 0 && outcome == 1) {
            c.lostOutsideSwitch++;
          } else if (v == 0 && outcome == 2) {
            c.lostDuringSwitch++;
          } else if (v > 0 && outcome == 0) {
            c.failedButRan++;
          }
        }
      }
      return c;
    }

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
          + ", acknowledged " + acknowledged + " (" + acknowledgedDuringSwitch + " during the switch)"
          + ", failed " + failures + ", failed after the failover "
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
      String keyPrefix,
      Incr incr,
      BooleanSupplier clientSwitched,
      Function<RuntimeException, String> classify)
      throws InterruptedException {
    Result r = new Result();
    r.oldMaster = sentinels.master();
    r.prefix = keyPrefix;
    incr.incr(false, keyPrefix + ":0"); // before the load
    r.outcomes.put(0, 1);
    AtomicLong acknowledged = new AtomicLong(1);
    AtomicLong failedAfter = new AtomicLong();
    AtomicLong startedAt = new AtomicLong();
    AtomicLong completedAt = new AtomicLong();
    AtomicLong duringSwitch = new AtomicLong();
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
                int call;
                while (!stop.get() && (call = calls.incrementAndGet()) <= MAX_CALLS && System.nanoTime() < deadline) {
                  long completed = completedAt.get();
                  // a margin for the calls already on their way when the failover completed
                  boolean after = completed != 0 && System.nanoTime() - completed > 200_000_000L;
                  try {
                    incr.incr(holds, keyPrefix + ":" + call);
                    acknowledged.incrementAndGet();
                    if (startedAt.get() != 0 && completedAt.get() == 0) {
                      duringSwitch.incrementAndGet(); // acked after the start, before completion
                      r.outcomes.put(call, 2);
                    } else {
                      r.outcomes.put(call, 1);
                    }
                    if (after) {
                      firstOkAfter.compareAndSet(0, System.nanoTime());
                    }
                  } catch (RuntimeException e) {
                    // refused past the retry policy: counted by kind, not hidden
                    r.failures.computeIfAbsent(classify.apply(e), k -> new AtomicLong()).incrementAndGet();
                    r.outcomes.put(call, 0);
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
      startedAt.set(start);
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
    r.acknowledgedDuringSwitch = duringSwitch.get();
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
