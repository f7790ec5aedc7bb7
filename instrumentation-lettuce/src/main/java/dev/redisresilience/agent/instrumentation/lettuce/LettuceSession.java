package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.core.SessionEffect;
import dev.redisresilience.agent.policy.ServerState;

/**
 * The session state of one Lettuce connection as its commands are dispatched, which is the order
 * Redis runs them in: the database (a SELECT changes it for the commands dispatched after it,
 * before its reply arrived), and the state a reconnect loses and Lettuce does not restore — WATCH
 * and CLIENT TRACKING. A command dispatched while such state is held is not portable: re-run on a
 * new connection, it would run without it (an EXEC after a retried GET would commit a
 * transaction whose WATCH is gone). Also whether the app flushes commands itself
 * (setAutoFlushCommands(false)): an agent retry would wait for the app's next flush. Held in the
 * connection's state field; written by dispatching threads. JDK and agent types only (loaded from
 * the bootstrap path): public for the helpers injected next to Lettuce.
 */
public final class LettuceSession {
  public volatile long database;
  private volatile boolean watching;
  private volatile boolean tracking;
  /** A MULTI is open: whatever is sent now is queued into the app's transaction. */
  public volatile boolean inMulti;
  public volatile boolean manualFlush;
  /**
   * The server this connection last wrote to: a command waiting in the offline queue during an
   * outage is charged to its retry budget (it has not been written anywhere yet).
   */
  public volatile ServerState lastServer;

  /**
   * The connection is the client's own (a sentinel watch, a topology refresh's): its commands
   * are never operations.
   */
  public volatile boolean clientInternal;

  /**
   * A standalone connection made from a Sentinel RedisURI: each reconnect asks the sentinels for
   * the master.
   */
  public volatile boolean sentinelManaged;

  public LettuceSession(long database) {
    this.database = database;
  }

  /** True when a command dispatched now may run again on another connection. */
  public boolean portable() {
    return !watching && !tracking;
  }

  /**
   * Runs {@code begin} (a MOVING hand-off's start: from then on the connection writes no new
   * command to its channel) unless a transaction, a WATCH or CLIENT TRACKING is open: those live
   * on the old connection, and their next commands sent on the new one would run outside them (a
   * partial, non-atomic commit; a transaction without its WATCH). Under the monitor that the
   * dispatch of MULTI / WATCH / TRACKING takes, so such a command is either seen here or
   * dispatched after {@code begin} (and then goes, with all that follows it, to the new one).
   */
  public synchronized boolean beginHandoff(Runnable begin) {
    if (inMulti || watching || tracking) {
      return false;
    }
    begin.run();
    return true;
  }

  /** The state after {@code effect}, dispatched now. */
  public void dispatched(SessionEffect effect) {
    if (effect == SessionEffect.MULTI || effect == SessionEffect.WATCH || effect == SessionEffect.TRACKING_ON) {
      synchronized (this) { // against beginHandoff: see there
        apply(effect);
      }
      return;
    }
    apply(effect);
  }

  private void apply(SessionEffect effect) {
    switch (effect) {
      case WATCH:
        watching = true;
        break;
      case UNWATCH:
        watching = false;
        break;
      case MULTI:
        inMulti = true;
        break;
      case END_TRANSACTION:
        watching = false;
        inMulti = false;
        break;
      case TRACKING_ON:
        tracking = true;
        break;
      case TRACKING_OFF:
        tracking = false;
        break;
      default:
        break;
    }
  }
}
