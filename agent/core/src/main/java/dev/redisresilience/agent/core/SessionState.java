package dev.redisresilience.agent.core;

/**
 * The session state one connection carries beyond its handshake, as the agent saw the
 * application set it. Decides whether the connection may be replaced in place (its state
 * restored exactly) and whether its commands may run on another connection at all.
 *
 * <p>The rule: state the agent replays exactly is the handshake (AUTH, HELLO, CLIENT SETNAME,
 * SELECT of the client's configuration) plus a SELECT the application made through the client's
 * own select method. Anything else — an open WATCH or MULTI, CLIENT TRACKING, a subscription, a
 * database chosen by a raw SELECT, AUTH / HELLO / CLIENT SETNAME / READONLY / RESET sent by the
 * application — makes the connection unrestorable until the state is gone again (EXEC, DISCARD,
 * UNWATCH, CLIENT TRACKING OFF) or the client itself opens a fresh connection. A connection
 * whose client library keeps state of its own on it (client-side caching) is never replaced in
 * place either, but its commands may run on another connection the library set up the same way.
 *
 * <p>Confined to the thread using the connection, like the connection itself.
 */
public final class SessionState {
  private boolean watching;
  private boolean inMulti;
  private boolean tracking;
  private boolean subscribed;
  private boolean databaseUnknown;
  private boolean other;
  private boolean clientManaged;
  private boolean expectSelect;

  /** A command with {@code effect} was sent by the application on this connection. */
  public void sent(SessionEffect effect) {
    switch (effect) {
      case NONE:
        return;
      case SELECT:
        if (!expectSelect) {
          databaseUnknown = true; // a raw SELECT: the agent cannot be sure it succeeded
        }
        return;
      case WATCH:
        watching = true;
        return;
      case UNWATCH:
        watching = false;
        return;
      case MULTI:
        inMulti = true;
        return;
      case END_TRANSACTION:
        inMulti = false;
        watching = false;
        return;
      case SUBSCRIBE:
        subscribed = true;
        return;
      case TRACKING_ON:
        tracking = true;
        return;
      case TRACKING_OFF:
        tracking = false;
        return;
      case UNRESTORABLE:
      default:
        other = true;
    }
  }

  /** The client's own select method is running: its SELECT is tracked exactly. */
  public void selecting(boolean on) {
    expectSelect = on;
  }

  /** The client's select method succeeded: the database is known again. */
  public void selected() {
    databaseUnknown = false;
  }

  /** The client library keeps its own state on this connection (e.g. client-side caching). */
  public void clientManaged() {
    clientManaged = true;
  }

  /** The client opened a fresh connection on its own: the server holds no session state now. */
  public void fresh() {
    watching = false;
    inMulti = false;
    tracking = false;
    subscribed = false;
    databaseUnknown = false;
    other = false;
  }

  /** The subscriber loop ended: no subscriptions are left. */
  public void unsubscribed() {
    subscribed = false;
  }

  /**
   * The connection was replaced in place. Only allowed when nothing was lost but a transaction
   * the next command ends anyway (see {@link #restorableInPlace}): the new one has none.
   */
  public void replaced() {
    watching = false;
    inMulti = false;
  }

  /** True when the commands of this connection may run on another connection. */
  public boolean portable() {
    return !(watching || inMulti || tracking || subscribed || databaseUnknown || other);
  }

  /**
   * True when the connection may be reconnected in place, its state restored exactly, for a
   * command with effect {@code next}: an UNWATCH, EXEC or DISCARD may run on a new connection
   * that lost the WATCH / MULTI they end (EXEC then fails there, as it must: no commit).
   */
  public boolean restorableInPlace(SessionEffect next) {
    if (clientManaged || tracking || subscribed || databaseUnknown || other) {
      return false;
    }
    if (next == SessionEffect.END_TRANSACTION) {
      return true;
    }
    if (next == SessionEffect.UNWATCH) {
      return !inMulti;
    }
    return !watching && !inMulti;
  }

  /** What a reconnect would lose, for error messages: e.g. "WATCH", or null if nothing. */
  public String lost() {
    if (watching) {
      return "WATCH";
    }
    if (inMulti) {
      return "MULTI";
    }
    if (tracking) {
      return "CLIENT TRACKING";
    }
    if (subscribed) {
      return "a subscription";
    }
    if (databaseUnknown) {
      return "a database chosen by a raw SELECT";
    }
    if (other) {
      return "connection state set by the application";
    }
    if (clientManaged) {
      return "the client's own connection state (client-side caching)";
    }
    return null;
  }
}
