package dev.redisresilience.agent.maintenance;

import dev.redisresilience.agent.policy.ServerState;

/**
 * The maintenance state of one connection: whether its timeouts are relaxed (and until when), and
 * whether a MOVING asked it to hand off. Written by the thread that reads the connection's pushes,
 * read by any thread that computes a timeout for it: volatile fields, no lock. Costs nothing on the
 * hot path of a connection that never saw a notification: {@link #timeoutNanos} is one volatile
 * read then.
 */
public final class ConnectionMaintenance {
  private final ServerState server;
  /** 0: not relaxed; else System.nanoTime() until which the timeouts stay relaxed. */
  private volatile long relaxedUntil;
  /** A MIGRATING / FAILING_OVER without its end yet. */
  private volatile boolean inWindow;
  /** The last MOVING not yet handed off, or null. */
  private volatile MaintenanceNotice moving;
  private volatile long movingAt;
  private volatile boolean closed;

  public ConnectionMaintenance(ServerState server) {
    this.server = server;
  }

  public ServerState server() {
    return server;
  }

  /**
   * Applies a notification to the connection's timeouts; returns true when the connection (newly)
   * entered relaxed mode. MOVING relaxes too (Lettuce 7.7.0 leaves an idle connection unrelaxed;
   * the commands still in flight on the old endpoint need the slack), until the handoff closes the
   * connection or time_s passes.
   */
  public boolean apply(MaintenanceNotice n, MaintenancePolicy p, long now) {
    boolean wasRelaxed = relaxed(now);
    long until;
    switch (n.type()) {
      case MIGRATING:
      case FAILING_OVER:
        inWindow = true;
        until = now + p.maxWindowNanos();
        break;
      case MIGRATED:
      case FAILED_OVER:
        inWindow = false;
        until = wasRelaxed ? now + p.graceNanos() : 0;
        break;
      case MOVING:
      default:
        moving = n;
        movingAt = now;
        long t = n.timeSeconds() > 0 ? n.timeSeconds() * 1_000_000_000L : 0;
        until = now + Math.min(p.maxWindowNanos(), Math.max(p.graceNanos(), t));
        break;
    }
    relaxedUntil = until;
    if (until != 0 && server != null) {
      server.markMaintenance(until);
    }
    return !wasRelaxed && relaxed(now);
  }

  /** True while this connection's timeouts are relaxed. */
  public boolean relaxed(long now) {
    long u = relaxedUntil;
    return u != 0 && !closed && now - u < 0;
  }

  /** Between a MIGRATING / FAILING_OVER and its MIGRATED / FAILED_OVER (within the max window). */
  public boolean inWindow(long now) {
    return inWindow && relaxed(now);
  }

  /**
   * The command timeout to use now for a connection whose own timeout is {@code baseNanos}: the
   * relaxed one during maintenance, else {@code baseNanos}. Never shorter; 0 (infinite) stays.
   */
  public long timeoutNanos(long baseNanos, MaintenancePolicy p, long now) {
    long u = relaxedUntil;
    if (u == 0 || closed || now - u >= 0) {
      return baseNanos;
    }
    return p.relaxedNanos(baseNanos);
  }

  /** The MOVING waiting for its handoff, or null. */
  public MaintenanceNotice pendingMove() {
    return moving;
  }

  /** System.nanoTime() of the pending MOVING. */
  public long pendingMoveAt() {
    return movingAt;
  }

  /** The handoff of {@code n} is done (or given up): forget it. */
  public void moveHandled(MaintenanceNotice n) {
    if (moving == n) {
      moving = null;
    }
  }

  /**
   * For a client that relaxes its own timeouts (Lettuce 7.x): mirrors what the client did, relaxed
   * until {@code untilNanos} (System.nanoTime(); 0: not relaxed). Unlike {@link #apply} it neither
   * marks the server's maintenance window nor records a MOVING: the mirror only reports.
   */
  public void mirrorRelaxed(long untilNanos) {
    relaxedUntil = untilNanos;
  }

  /** The connection is closed: it no longer counts as relaxed. */
  public void closed() {
    closed = true;
  }

  public boolean isClosed() {
    return closed;
  }
}
