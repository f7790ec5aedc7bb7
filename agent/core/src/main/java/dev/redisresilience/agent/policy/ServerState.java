package dev.redisresilience.agent.policy;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the agent knows about one server as one client library sees it: its retry budget, and
 * whether it is down (a connection failure was seen and no connection has been made since).
 */
public final class ServerState {
  private final String address;
  private final int port;
  private final RetryBudget budget;
  /** 0 = up; otherwise System.nanoTime() of the first failure of the current outage. */
  private final AtomicLong downSince = new AtomicLong();
  private volatile boolean budgetExhaustedReported;
  /** 0 = none; otherwise System.nanoTime() of the first write refused for the server's role. */
  private final AtomicLong refusingWritesSince = new AtomicLong();

  /** 0 = none; else System.nanoTime() until which the server is in a planned maintenance window. */
  private final AtomicLong maintenanceUntil = new AtomicLong();

  ServerState(String address, int port, RetryBudget budget) {
    this.address = address;
    this.port = port;
    this.budget = budget;
  }

  public String address() {
    return address;
  }

  public int port() {
    return port;
  }

  public RetryBudget budget() {
    return budget;
  }

  public boolean isDown() {
    return downSince.get() != 0;
  }

  /** A connection to the server failed. True when this starts an outage. */
  public boolean markDown(long nowNanos) {
    return downSince.compareAndSet(0, nowNanos == 0 ? 1 : nowNanos);
  }

  /**
   * The server answered again (a connection was made). Returns the downtime in nanoseconds if an
   * outage ended, else -1.
   */
  public long markUp(long nowNanos) {
    long since = downSince.getAndSet(0);
    if (since == 0) {
      return -1;
    }
    return Math.max(0, nowNanos - since);
  }

  /** The server refused a write for its role (READONLY, MASTERDOWN, NOREPLICAS): a failover? */
  public void markRefusingWrites(long nowNanos) {
    if (refusingWritesSince.get() == 0) {
      refusingWritesSince.compareAndSet(0, nowNanos == 0 ? 1 : nowNanos);
    }
  }

  /** Forgets the refusals; returns nanoseconds since the first of them, or -1 when none. */
  public long refusingWritesEnded(long nowNanos) {
    long since = refusingWritesSince.getAndSet(0);
    return since == 0 ? -1 : Math.max(0, nowNanos - since);
  }

  /** A maintenance notification announced planned work on this server until {@code untilNanos}. */
  public void markMaintenance(long untilNanos) {
    long cur;
    do {
      cur = maintenanceUntil.get();
      if (cur != 0 && cur - untilNanos >= 0) {
        return;
      }
    } while (!maintenanceUntil.compareAndSet(cur, untilNanos));
  }

  /**
   * True during a planned maintenance window: failures then are the maintenance, not evidence
   * against the server, so they do not take from its retry budget.
   */
  public boolean inMaintenance(long nowNanos) {
    long u = maintenanceUntil.get();
    return u != 0 && nowNanos - u < 0;
  }

  /** True the first time the budget refuses a retry since it last allowed one. */
  public boolean budgetExhaustionStarts() {
    if (budgetExhaustedReported) {
      return false;
    }
    budgetExhaustedReported = true;
    return true;
  }

  public void budgetAllowsAgain() {
    budgetExhaustedReported = false;
  }
}
