package dev.redisresilience.agent.core;

/**
 * What a command does to its connection's session state (as opposed to the data): the part of a
 * connection that a reconnect loses and that the agent must either restore exactly or refuse to
 * reconnect for. Client-neutral; looked up once per command name.
 */
public enum SessionEffect {
  /** No session state changes (GET, SET, INCR ... almost everything). */
  NONE,
  /** SELECT: the connection's database. */
  SELECT,
  /** WATCH: an optimistic lock that a new connection would not hold. */
  WATCH,
  /** UNWATCH: drops the WATCHes. */
  UNWATCH,
  /** MULTI: a transaction is open; commands are queued, not executed. */
  MULTI,
  /** EXEC / DISCARD: ends the transaction and the WATCHes. */
  END_TRANSACTION,
  /** SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE: the connection is a subscriber. */
  SUBSCRIBE,
  /** CLIENT TRACKING ON: client-side caching invalidations are bound to this connection. */
  TRACKING_ON,
  /** CLIENT TRACKING OFF. */
  TRACKING_OFF,
  /**
   * Any other state the agent does not replay: AUTH / HELLO outside the handshake, CLIENT SETNAME,
   * CLIENT REPLY, CLIENT NO-EVICT, READONLY, READWRITE, RESET ...
   */
  UNRESTORABLE;

  private static volatile SessionEffect[] byId = new SessionEffect[0];

  /** True when {@link #of} needs the arguments (CLIENT subcommands); otherwise it ignores them. */
  public static boolean dependsOnArgs(CommandInfo cmd) {
    return cmd.isContainer() && "CLIENT".equals(cmd.name());
  }

  /** The effect of one call of {@code cmd}; arguments matter only for CLIENT subcommands. */
  public static SessionEffect of(CommandInfo cmd, ArgView args) {
    if (cmd.isContainer()) {
      return "CLIENT".equals(cmd.name()) ? ofClient(args) : NONE;
    }
    SessionEffect[] table = byId;
    int id = cmd.id();
    SessionEffect e = id < table.length ? table[id] : null;
    if (e == null) {
      e = ofName(cmd.name());
      remember(id, e);
    }
    return e;
  }

  private static synchronized void remember(int id, SessionEffect e) {
    SessionEffect[] t = byId;
    if (id >= t.length) {
      t = java.util.Arrays.copyOf(t, Math.max(id + 1, Math.max(64, t.length * 2)));
    } else {
      t = t.clone();
    }
    t[id] = e;
    byId = t; // copy-on-write: readers never lock
  }

  static SessionEffect ofName(String name) {
    switch (name) {
      case "SELECT":
        return SELECT;
      case "WATCH":
        return WATCH;
      case "UNWATCH":
        return UNWATCH;
      case "MULTI":
        return MULTI;
      case "EXEC":
      case "DISCARD":
        return END_TRANSACTION;
      case "SUBSCRIBE":
      case "PSUBSCRIBE":
      case "SSUBSCRIBE":
        return SUBSCRIBE;
      case "AUTH":
      case "HELLO":
      case "READONLY":
      case "READWRITE":
      case "RESET":
      case "MONITOR":
        return UNRESTORABLE;
      default:
        return NONE;
    }
  }

  private static SessionEffect ofClient(ArgView args) {
    if (args.count() == 0) {
      return NONE;
    }
    byte[] sub = args.arg(0);
    if (CommandInfo.equalsIgnoreCase(sub, "TRACKING")) {
      return args.count() > 1 && CommandInfo.equalsIgnoreCase(args.arg(1), "OFF") ? TRACKING_OFF : TRACKING_ON;
    }
    if (CommandInfo.equalsIgnoreCase(sub, "SETNAME")
        || CommandInfo.equalsIgnoreCase(sub, "REPLY")
        || CommandInfo.equalsIgnoreCase(sub, "NO-EVICT")
        || CommandInfo.equalsIgnoreCase(sub, "NO-TOUCH")
        || CommandInfo.equalsIgnoreCase(sub, "CACHING")
        || CommandInfo.equalsIgnoreCase(sub, "SETINFO")) {
      return UNRESTORABLE;
    }
    return NONE;
  }
}
