package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.CommandTable;
import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.core.SessionEffect;
import dev.redisresilience.agent.engine.OutageTracker;
import dev.redisresilience.agent.policy.Policies;
import dev.redisresilience.agent.policy.RetryPolicy;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.ResilienceTelemetry;
import dev.redisresilience.agent.telemetry.Telemetry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisSocketFactory;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The life of a Jedis connection as the agent sees it: which server it talks to, when it is made
 * or fails to be made (outages), the client's own traffic on it, the session state the
 * application sets on it, and — before an attempt — making it fit: health-checking it when idle
 * and replacing its socket in place when broken, with the handshake and the database restored, or
 * refusing when its state cannot be restored.
 */
public final class JedisConnections {
  /** The handshake method per connection class (CacheConnection overrides Connection's). */
  private static final ClassValue<Method> HANDSHAKE =
      new ClassValue<Method>() {
        @Override
        protected Method computeValue(Class<?> type) {
          for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
              Method m = c.getDeclaredMethod("initializeFromClientConfig", JedisClientConfig.class);
              m.setAccessible(true);
              return m;
            } catch (NoSuchMethodException e) {
              // look further up
            } catch (RuntimeException e) {
              return null; // not accessible (a module boundary): no in-place replacement
            }
          }
          return null;
        }
      };

  /** Why a connection was replaced, on its {@code redis.client.connection.replaced} record. */
  private static final String REPLACED_BROKEN = "broken";

  private static final String REPLACED_HEALTH_CHECK = "health_check";

  private JedisConnections() {}

  // --- state -------------------------------------------------------------------------------------

  static JedisConnState state(Object connection) {
    StateHolder h = (StateHolder) connection;
    Object s = h.__rraState();
    if (s == null) {
      JedisConnState created = new JedisConnState();
      if (keepsClientState(connection.getClass())) {
        created.session.clientManaged();
      }
      h.__rraSetState(created);
      s = created;
    }
    return (JedisConnState) s;
  }

  /** Client-side caching (Jedis 5.2+): CLIENT TRACKING and a cache bound to this connection. */
  private static boolean keepsClientState(Class<?> type) {
    for (Class<?> c = type; c != null && c != Connection.class; c = c.getSuperclass()) {
      if (c.getName().equals("redis.clients.jedis.csc.CacheConnection")) {
        return true;
      }
    }
    return false;
  }

  /** State of a connection, learning its server from the socket factory on first sight. */
  static JedisConnState state(Object connection, Object socketFactory) {
    JedisConnState s = state(connection);
    if (s.socketFactory == null) {
      s.socketFactory = socketFactory;
    }
    if (!s.hasServer()) {
      learnServer(s, socketFactory);
    }
    return s;
  }

  /** The server is the one the socket factory connects to now (a new socket was just made). */
  private static void learnServer(JedisConnState s, Object socketFactory) {
    if (socketFactory instanceof DefaultJedisSocketFactory) {
      HostAndPort hp = ((DefaultJedisSocketFactory) socketFactory).getHostAndPort();
      if (hp != null && !s.isServer(hp.getHost(), hp.getPort())) {
        s.server(hp.getHost(), hp.getPort());
      }
    }
  }

  private static ResilienceTelemetry telemetry() {
    return Telemetry.jedis().resilience();
  }

  private static volatile OutageTracker outages;

  private static OutageTracker outages() {
    ResilienceTelemetry rt = telemetry();
    OutageTracker o = outages;
    if (o == null || !o.reportsTo(rt)) {
      o = new OutageTracker(rt);
      outages = o;
    }
    return o;
  }

  // --- connects ----------------------------------------------------------------------------------

  /**
   * Connection.connect enter: a connection the agent had to close and could not restore must not
   * be connected bare by the client (no AUTH, no HELLO, no SELECT: the next command would run as
   * the default user in database 0). Returns the exception connect() throws instead, or null.
   */
  public static Throwable connectGuard(Object connection) {
    if (!(connection instanceof StateHolder)) {
      return null;
    }
    Object st = ((StateHolder) connection).__rraState();
    if (!(st instanceof JedisConnState)) {
      return null;
    }
    JedisConnState s = (JedisConnState) st;
    if (!s.agentDisconnected || s.replacing) {
      return null;
    }
    return JedisErrors.replaceFailed(
        s.replaceFailure != null ? s.replaceFailure : new JedisConnectionException("connection closed"));
  }

  /** connect() failed: counted here, not again by the handshake around it. */
  public static void connectThrew(Object connection, Object socketFactory, Throwable thrown) {
    JedisConnState s = state(connection, socketFactory);
    s.connectFailureCounted = true;
    connectFailed(s, thrown);
  }

  /** A connection attempt to a server failed (the connect, or the handshake after it). */
  static void connectFailed(JedisConnState s, Throwable thrown) {
    if (!s.hasServer()) {
      return;
    }
    ServerState server = s.serverState();
    Failure f = JedisErrors.classify(thrown);
    JedisCall current = JedisContext.current();
    if (current != null) {
      current.lastServer = server; // a pool creating a connection inside the call
    }
    if (f.kind() != Failure.Kind.SERVER || RetryPolicy.provenNotExecuted(f)) {
      outages().connectFailed(server, f); // a WRONGPASS is a configuration problem, not an outage
      telemetry().connectionEvents().connectFailed(server, f.errorType(), 0);
    }
    if (f.kind() == Failure.Kind.TIMEOUT && current == null) {
      telemetry().connectTimedOut(server); // calls count their own timeouts
    }
  }

  /** connect() exit: the peer the socket really reached, and the command timeout per policy. */
  public static void connected(Object connection, Object socketFactory, Socket socket) {
    if (socket == null) {
      return;
    }
    JedisConnState s = state(connection, socketFactory);
    // a JedisSentinelPool re-points its connections' shared socket factory at a new master: a
    // socket made after that (a replacement too) talks to the new master, and is named so
    learnServer(s, socketFactory);
    SocketAddress remote = socket.getRemoteSocketAddress();
    if (remote instanceof InetSocketAddress) {
      InetSocketAddress a = (InetSocketAddress) remote;
      String ip = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
      s.peer(ip, a.getPort(), a.getHostString());
      if (s.moved || JedisMoves.pending()) {
        named(s, socketFactory, a);
      }
    }
    JedisTimeouts.applyCommandTimeout((Connection) connection);
    s.lastUsedNanos = System.nanoTime();
    s.connectedNanos = s.lastUsedNanos;
    if (!s.replacing && !s.handshaking) {
      s.database(0); // a bare connect starts in database 0, whatever was SELECTed before
      if (!s.inCommand) {
        s.session.fresh(); // e.g. the application's disconnect() then connect()
      }
    }
    if (!s.handshaking) {
      established(s); // no handshake to wait for (a connection made without a client config)
    }
    JedisCall current = JedisContext.current();
    if (current != null && s.suppressed == 0) {
      current.op.bind(s.endpoint()); // connected lazily inside the operation: now with the peer
    }
  }

  /**
   * A socket of a connection whose endpoint moved (MOVING): the connection is named after the
   * server the socket reached (spans and metrics then say the new endpoint), and after the
   * configured one again when a later socket no longer goes to the moved-to endpoint.
   */
  private static void named(JedisConnState s, Object socketFactory, InetSocketAddress remote) {
    if (!(socketFactory instanceof DefaultJedisSocketFactory)) {
      return;
    }
    HostAndPort configured = ((DefaultJedisSocketFactory) socketFactory).getHostAndPort();
    HostAndPort reached = JedisMoves.reached(configured, remote);
    if (reached != null) {
      s.server(reached.getHost(), reached.getPort());
      s.moved = true;
    } else if (s.moved && configured != null) {
      s.server(configured.getHost(), configured.getPort());
      s.moved = false;
    }
  }

  /** Handshake enter: remembers the config (to repeat the handshake) and the database. */
  public static JedisConnState handshake(Object conn, Object factory, JedisClientConfig config) {
    JedisConnState s = state(conn, factory);
    s.clientConfig = config;
    if (!s.replacing) {
      s.database(config.getDatabase()); // a replacement returns to the application's database
    }
    s.handshaking = true;
    s.connectFailureCounted = false;
    return beginInternal(conn);
  }

  /** Handshake exit: the connection is usable now, or the attempt to make it failed. */
  public static void handshakeDone(JedisConnState s, Throwable thrown) {
    if (s == null) {
      return;
    }
    endInternal(s);
    s.handshaking = false;
    if (thrown == null) {
      if (!s.replacing && !s.inCommand) {
        s.session.fresh(); // a new handshake of the client's own: no state from before survives
      }
      established(s);
    } else if (!s.connectFailureCounted) {
      connectFailed(s, thrown);
    }
  }

  /** A new connection is usable (connected, handshake done): ends an outage if there is one. */
  static void established(JedisConnState s) {
    if (!s.hasServer()) {
      return;
    }
    ServerState server = s.serverState();
    JedisCall current = JedisContext.current();
    if (current != null) {
      current.lastServer = server;
    }
    outages().connected(server);
  }

  // --- client-internal traffic -------------------------------------------------------------------

  /** Start of client-internal traffic on a connection; returns what {@link #endInternal} needs. */
  public static JedisConnState beginInternal(Object connection) {
    if (!(connection instanceof StateHolder)) {
      return null;
    }
    JedisConnState s = state(connection);
    s.suppressed++;
    return s;
  }

  public static void endInternal(JedisConnState s) {
    if (s != null) {
      s.suppressed--;
    }
  }

  /** Pool factories hand over a PooledObject of a Jedis or a Connection. */
  public static JedisConnState beginInternalPooled(Object pooled) {
    Object o =
        pooled instanceof org.apache.commons.pool2.PooledObject
            ? ((org.apache.commons.pool2.PooledObject<?>) pooled).getObject()
            : pooled;
    if (o instanceof Jedis) {
      o = ((Jedis) o).getConnection();
    }
    return beginInternal(o);
  }

  /**
   * A pool destroys one of its connections: client-internal traffic (a QUIT), and when the
   * connection is broken, a connection replaced (the pool makes a new one for the next borrow).
   */
  public static JedisConnState destroyingPooled(Object pooled) {
    JedisConnState s = beginInternalPooled(pooled);
    if (s != null && s.hasServer() && pooled instanceof org.apache.commons.pool2.PooledObject) {
      Object o = ((org.apache.commons.pool2.PooledObject<?>) pooled).getObject();
      Connection c = o instanceof Jedis ? ((Jedis) o).getConnection() : o instanceof Connection ? (Connection) o : null;
      if (c != null && c.isBroken()) {
        telemetry().connectionEvents().replaced(s.serverState(), REPLACED_BROKEN);
      }
    }
    return s;
  }

  /** A pub/sub (or monitor) loop on the connection ended: its subscriptions are gone. */
  public static void subscriptionEnded(JedisConnState s) {
    if (s != null) {
      endInternal(s);
      s.session.unsubscribed();
    }
  }

  // --- session state -----------------------------------------------------------------------------

  /**
   * A command with session effect {@code effect} is about to be sent by the application. When
   * the client is going to open a new socket for it on its own (first use, or after it closed
   * the old one), the server holds no state for the connection yet.
   */
  static void sending(Connection conn, JedisConnState s, SessionEffect effect) {
    if (effect == SessionEffect.NONE) {
      return; // the common case: no socket checks per command
    }
    if (!s.agentDisconnected && !conn.isConnected()) {
      s.session.fresh();
    }
    s.session.sent(effect);
  }

  /** Jedis.select enter: the SELECT it sends is tracked exactly. */
  public static JedisConnState selectEnter(Object connection) {
    if (!(connection instanceof StateHolder)) {
      return null;
    }
    JedisConnState s = state(connection);
    s.session.selecting(true);
    return s;
  }

  /** Jedis.select exit: on success the connection is in that database. */
  public static void selectExit(JedisConnState s, int index, Throwable thrown) {
    if (s == null) {
      return;
    }
    s.session.selecting(false);
    if (thrown == null) {
      s.database(index);
      s.session.selected();
    }
  }

  /**
   * A command the client sends on its own behalf (a pool's UNWATCH / DISCARD on return, a
   * pub/sub loop's SUBSCRIBE): its transaction and subscription effects still count, except
   * during the handshake and the agent's own replacement, whose state the agent replays itself.
   */
  static void internalCommand(JedisConnState s, CommandArguments args) {
    if (s.handshaking || s.replacing) {
      return;
    }
    CommandInfo cmd = CommandTable.get().lookup(args.getCommand().getRaw());
    SessionEffect e = SessionEffect.of(cmd, SessionEffect.dependsOnArgs(cmd) ? new JedisArgs(args) : null);
    switch (e) {
      case WATCH:
      case UNWATCH:
      case MULTI:
      case END_TRANSACTION:
      case SUBSCRIBE:
        s.session.sent(e);
        return;
      default:
        // the client's own AUTH (a re-authentication with its credentials provider), SELECT of
        // its configured database ...: state the handshake replay restores
    }
  }

  // --- before an attempt -------------------------------------------------------------------------

  /**
   * Makes the connection fit for a command with session effect {@code effect}: a broken
   * connection (or one the agent could not restore before) gets a new socket with its handshake
   * and database; one idle too long is health-checked first. Returns null when the command may
   * be sent, or the exception the attempt fails with instead, without sending anything.
   */
  static Throwable prepare(Connection conn, JedisConnState s, CommandInfo cmd, SessionEffect effect) {
    if (JedisHandoffs.beforeCommand(conn, s)) {
      return null; // its endpoint moved (MOVING): now on a new socket to the new endpoint
    }
    boolean replace = conn.isBroken() || s.agentDisconnected;
    String reason = REPLACED_BROKEN;
    if (!replace) {
      long interval = Policies.get().healthCheckIntervalNanos();
      if (interval > 0 && conn.isConnected() && System.nanoTime() - s.lastUsedNanos > interval) {
        replace = !healthCheck(conn, s);
        reason = REPLACED_HEALTH_CHECK;
      }
    }
    if (!replace) {
      return null;
    }
    if (!s.session.restorableInPlace(effect)) {
      return retire(conn, s, JedisErrors.sessionStateLost(cmd.name(), s.session.lost(), s.replaceFailure));
    }
    try {
      replace(conn, s);
      telemetry().connectionEvents().replaced(s.serverState(), reason);
      return null;
    } catch (RuntimeException e) {
      return JedisErrors.replaceFailed(e);
    }
  }

  /**
   * The connection must be replaced but carries state the agent cannot restore: it is closed
   * (a late reply on it could answer the next command) and may not be connected bare; only a
   * command that ends that state (UNWATCH, EXEC, DISCARD) may bring it back with its handshake.
   * Returns {@code refusal}, the exception its commands fail with until then.
   */
  static Throwable retire(Connection conn, JedisConnState s, Throwable refusal) {
    s.agentDisconnected = true;
    s.replaceFailure = refusal;
    try {
      conn.disconnect();
    } catch (RuntimeException ignored) {
      // closed already
    }
    conn.setBroken(); // a pool destroys it
    return refusal;
  }

  /** PINGs the idle connection (client-internal traffic); false when it is not usable. */
  private static boolean healthCheck(Connection conn, JedisConnState s) {
    long t0 = System.nanoTime();
    boolean ok;
    try {
      ok = conn.ping();
    } catch (JedisException e) {
      ok = false;
    }
    s.lastUsedNanos = System.nanoTime();
    telemetry().healthCheck(s.serverState(), ok, s.lastUsedNanos - t0);
    if (!ok) {
      conn.setBroken();
    }
    return ok;
  }

  /**
   * Replaces the connection's socket and repeats its handshake (AUTH, HELLO, CLIENT SETNAME,
   * SELECT), which Jedis' own connect() does not, then returns to the database the application
   * chose. On failure the connection stays closed and broken, and Jedis cannot connect it bare
   * ({@link #connectGuard}) until a replacement succeeds.
   */
  static void replace(Connection conn, JedisConnState s) {
    replace(conn, s, true);
  }

  /** As {@link #replace(Connection, JedisConnState)}; a planned hand-off is not a reconnect. */
  static void replace(Connection conn, JedisConnState s, boolean countReconnect) {
    // while the server is down, connects are counted where they are made (connectFailed, established)
    ServerState server = s.serverState();
    boolean countHere = countReconnect && !server.isDown();
    boolean ok = false;
    s.replacing = true;
    try {
      replaceSocket(conn, s);
      ok = true;
      s.agentDisconnected = false;
      s.replaceFailure = null;
      s.session.replaced();
    } catch (RuntimeException | Error e) {
      s.agentDisconnected = true;
      s.replaceFailure = e;
      try {
        conn.disconnect();
      } catch (RuntimeException ignored) {
        // closed already
      }
      conn.setBroken();
      throw e;
    } finally {
      s.replacing = false;
      if (countHere) {
        telemetry().reconnect(server, ok);
      }
    }
  }

  private static void replaceSocket(Connection conn, JedisConnState s) {
    long wanted = s.database(); // as the application left it: the handshake's, or a later select
    Method m = s.clientConfig == null ? null : HANDSHAKE.get(conn.getClass());
    if (s.clientConfig != null && m == null) {
      throw new IllegalStateException("cannot repeat the handshake of " + conn.getClass().getName());
    }
    s.agentDisconnected = true; // from here until the new socket is fully set up
    try {
      conn.disconnect();
    } catch (RuntimeException ignored) {
      // already closed
    }
    long selected = 0; // a bare connect() leaves the new connection in database 0
    if (s.clientConfig == null) {
      conn.connect(); // the connection never had a handshake: a bare socket is the same state
    } else {
      try {
        m.invoke(conn, s.clientConfig);
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        if (cause instanceof RuntimeException) {
          throw (RuntimeException) cause;
        }
        throw new JedisConnectionException(cause);
      } catch (IllegalAccessException e) {
        throw new JedisConnectionException(e);
      }
      selected = ((JedisClientConfig) s.clientConfig).getDatabase();
    }
    if (wanted != selected) {
      // the application had SELECTed another database on this connection (Jedis.select): a
      // retried command must run there, not in the database of the handshake
      JedisConnState internal = beginInternal(conn);
      try {
        conn.sendCommand(Protocol.Command.SELECT, Protocol.toByteArray((int) wanted));
        conn.getStatusCodeReply();
      } finally {
        endInternal(internal);
      }
    }
    s.database(wanted);
  }
}
