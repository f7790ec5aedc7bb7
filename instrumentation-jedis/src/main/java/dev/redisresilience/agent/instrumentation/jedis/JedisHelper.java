package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.CommandTable;
import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.core.QueryText;
import redis.clients.jedis.args.Rawable;
import dev.redisresilience.agent.policy.Policies;
import dev.redisresilience.agent.policy.RetryPolicy;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.ClientTelemetry;
import dev.redisresilience.agent.telemetry.Operation;
import dev.redisresilience.agent.telemetry.ResilienceTelemetry;
import dev.redisresilience.agent.telemetry.Telemetry;
import dev.redisresilience.agent.telemetry.TelemetryNames;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.CommandObject;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisSocketFactory;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisClusterOperationException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Everything the Jedis advice does, behind one-line calls. Touches Jedis types, so it is injected
 * into the class loader that loaded Jedis; everything it keeps is JDK- or agent-typed. Policy
 * decisions come from the core ({@link RetryPolicy}, timeouts); this class only applies them.
 */
public final class JedisHelper {
  /** Jedis' own default connect and socket timeout (DefaultJedisClientConfig). */
  static final int JEDIS_DEFAULT_TIMEOUT_MILLIS = 2000;

  private static volatile Method initializeFromClientConfig;

  private JedisHelper() {}

  // --- connection state -------------------------------------------------------------------------

  static JedisConnState state(Object connection) {
    StateHolder h = (StateHolder) connection;
    Object s = h.__rraState();
    if (s == null) {
      s = new JedisConnState();
      h.__rraSetState(s);
    }
    return (JedisConnState) s;
  }

  /** State of a connection, learning its server from the socket factory on first sight. */
  public static JedisConnState state(Object connection, Object socketFactory) {
    JedisConnState s = state(connection);
    if (!s.hasServer() && socketFactory instanceof DefaultJedisSocketFactory) {
      HostAndPort hp = ((DefaultJedisSocketFactory) socketFactory).getHostAndPort();
      if (hp != null) {
        s.server(hp.getHost(), hp.getPort());
      }
    }
    return s;
  }

  /** DefaultJedisSocketFactory.createSocket enter: the connect timeout per policy. */
  public static int connectTimeout(int appMillis) {
    return Policies.get().timeouts().connectMillis(appMillis, JEDIS_DEFAULT_TIMEOUT_MILLIS);
  }

  /**
   * A connection attempt to a server failed (the connect, or the handshake after it). While the
   * server is down this is a failed reconnect; otherwise it starts an outage.
   */
  static void connectFailed(JedisConnState s, Throwable thrown) {
    if (!s.hasServer()) {
      return;
    }
    ServerState server = s.serverState();
    ResilienceTelemetry rt = Telemetry.jedis().resilience();
    Failure f = classify(thrown);
    JedisCall current = JedisContext.current();
    if (current != null) {
      current.lastServer = server; // a pool creating a connection inside the call
    }
    if (server.isDown()) {
      rt.reconnect(server, false);
    } else if (server.markDown(System.nanoTime())) {
      rt.serverDown(server, f);
    }
    if (f.kind() == Failure.Kind.TIMEOUT && current == null) {
      rt.connectTimedOut(server); // calls count their own timeouts
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
    if (server.isDown()) {
      ResilienceTelemetry rt = Telemetry.jedis().resilience();
      rt.reconnect(server, true);
      long downtime = server.markUp(System.nanoTime());
      if (downtime >= 0) {
        rt.serverRestored(server, downtime);
      }
    }
  }

  /** connect() failed: counted here, not again by the handshake around it. */
  public static void connectThrew(Object connection, Object socketFactory, Throwable thrown) {
    JedisConnState s = state(connection, socketFactory);
    s.connectFailureCounted = true;
    connectFailed(s, thrown);
  }

  /** connect() exit: the peer the socket really reached, and the command timeout per policy. */
  public static void connected(Object connection, Object socketFactory, Socket socket) {
    if (socket == null) {
      return;
    }
    JedisConnState s = state(connection, socketFactory);
    SocketAddress remote = socket.getRemoteSocketAddress();
    if (remote instanceof InetSocketAddress) {
      InetSocketAddress a = (InetSocketAddress) remote;
      String ip = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
      s.peer(ip, a.getPort(), a.getHostString());
    }
    Connection conn = (Connection) connection;
    int app = conn.getSoTimeout();
    int ours = Policies.get().timeouts().commandMillis(app, JEDIS_DEFAULT_TIMEOUT_MILLIS);
    if (ours != app) {
      conn.setSoTimeout(ours);
    }
    s.lastUsedNanos = System.nanoTime();
    s.connectedNanos = s.lastUsedNanos;
    if (!s.handshaking) {
      established(s); // no handshake to wait for (a connection made without a client config)
    }
    JedisCall current = JedisContext.current();
    if (current != null && s.suppressed == 0) {
      current.op.bind(s.endpoint()); // connected lazily inside the operation: now with the peer
    }
  }

  /** Handshake enter: remembers the config (to repeat the handshake) and the database. */
  public static JedisConnState handshake(Object conn, Object factory, JedisClientConfig config) {
    JedisConnState s = state(conn, factory);
    s.clientConfig = config;
    s.database(config.getDatabase());
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
      established(s);
    } else if (!s.connectFailureCounted) {
      connectFailed(s, thrown);
    }
  }

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
    Object o = pooled instanceof org.apache.commons.pool2.PooledObject
        ? ((org.apache.commons.pool2.PooledObject<?>) pooled).getObject()
        : pooled;
    if (o instanceof Jedis) {
      o = ((Jedis) o).getConnection();
    }
    return beginInternal(o);
  }

  public static void database(Object connection, long db) {
    if (connection instanceof StateHolder) {
      state(connection).database(db);
    }
  }

  // --- operations -------------------------------------------------------------------------------

  static JedisCall newCall(CommandArguments args, int mode) {
    ClientTelemetry t = Telemetry.jedis();
    CommandInfo cmd = CommandTable.get().lookup(args.getCommand().getRaw());
    String text = null;
    QueryText.Builder b = t.queryTextBuilder(cmd, args.size() - 1);
    if (b != null) {
      boolean first = true;
      for (Rawable r : args) {
        if (first) {
          first = false; // the command name
        } else if (b.wantsMore()) {
          b.next(r.getRaw());
        } else {
          break;
        }
      }
      text = b.build();
    }
    // the arguments as an array only when a decision needs them (blocking time, safety class)
    return new JedisCall(t.start(cmd, text), cmd, new JedisArgs(args), mode, false);
  }

  /**
   * UnifiedJedis.executeCommand enter: a new logical operation unless one is running. The
   * executor decides who retries: the agent (pooled and single-connection executors) or Jedis
   * itself (cluster and retrying executors, where the agent only vetoes unsafe retries).
   */
  public static JedisCall unifiedEnter(CommandArguments args, Object executor) {
    if (JedisContext.current() != null) {
      return null;
    }
    JedisCall call = newCall(args, retryMode(executor));
    call.cluster = executor != null && executor.getClass().getName().endsWith(".ClusterCommandExecutor");
    JedisContext.enter(call);
    return call;
  }

  static int retryMode(Object executor) {
    String n = executor == null ? "" : executor.getClass().getName();
    if (n.endsWith(".ClusterCommandExecutor") || n.endsWith(".RetryableCommandExecutor")) {
      return JedisCall.GATEKEEPER;
    }
    if (n.endsWith(".DefaultCommandExecutor") || n.endsWith(".SimpleCommandExecutor")) {
      return JedisCall.OWN_RETRIES;
    }
    return JedisCall.OBSERVE; // multi-database failover, circuit breakers: their own policy
  }

  /**
   * UnifiedJedis.executeCommand exit. With the agent's own retries (pooled and single-connection
   * executors) a failed call is run again through the executor, which borrows a healthy
   * connection from the pool; failures before any attempt (no connection could be made) are
   * retried here too.
   */
  public static Outcome unifiedExit(
      JedisCall call, Object unified, CommandObject<?> co, Object returned, Throwable thrown) {
    if (call == null) {
      return null;
    }
    Failure f = classify(thrown);
    if (f == null) {
      JedisContext.restore(null);
      call.op.end(null);
      return null; // the common case: nothing to replace
    }
    Outcome out = new Outcome(returned, thrown);
    if (call.mode == JedisCall.OWN_RETRIES) {
      if (call.op.attempts() == 0) {
        countUnattemptedFailure(call, f); // the pool could not even produce a connection
      }
      retryUnified((redis.clients.jedis.UnifiedJedis) unified, co, call, f, out);
    }
    JedisContext.restore(null);
    call.op.end(finalFailure(call, out.thrown));
    return out;
  }

  /**
   * The operation's failure: executors wrap the last attempt's failure in their own exception
   * ("No more cluster attempts left", "Cluster retry deadline exceeded"), sometimes without a
   * cause; then the last attempt's classification is the truthful error.type.
   */
  static Failure finalFailure(JedisCall call, Throwable thrown) {
    Failure f = classify(thrown);
    if (f != null && f.kind() == Failure.Kind.OTHER && call.lastFailure != null) {
      Failure last = call.lastFailure;
      switch (last.kind()) {
        case TIMEOUT:
          return Failure.timeout(last.phase(), thrown);
        case CONNECTION:
          return Failure.connection(last.phase(), thrown);
        case SERVER:
          return Failure.server(last.statusCode(), thrown);
        default:
          return f;
      }
    }
    return f;
  }

  private static void countUnattemptedFailure(JedisCall call, Failure f) {
    call.op.attempt();
    record(call, call.lastServer, f);
  }

  static void retryUnified(
      redis.clients.jedis.UnifiedJedis unified, CommandObject<?> co, JedisCall call, Failure first, Outcome out) {
    ResilienceTelemetry rt = Telemetry.jedis().resilience();
    Failure f = first;
    while (true) {
      long backoff = decideRetry(call, f);
      if (backoff < 0) {
        return;
      }
      Failure cause = f;
      int attemptsBefore = call.op.attempts();
      call.retrying = true;
      try {
        out.value = unified.executeCommand(co);
        out.thrown = null;
        rt.retry(call.command.name(), cause, TelemetryNames.OUTCOME_SUCCESS);
        return;
      } catch (RuntimeException | Error e) {
        out.thrown = e;
        f = classify(e);
        rt.retry(call.command.name(), cause, TelemetryNames.OUTCOME_FAILURE);
        if (call.op.attempts() == attemptsBefore) {
          countUnattemptedFailure(call, f);
        }
      } finally {
        call.retrying = false;
      }
    }
  }

  /**
   * Decides about the failed attempt per policy: on yes, records the retry event, sleeps the
   * backoff and returns it; on no, records the refusal and returns -1.
   */
  static long decideRetry(JedisCall call, Failure f) {
    RetryPolicy policy = Policies.get().retries();
    ServerState server = call.lastServer;
    int attempts = call.op.attempts();
    long backoff = policy.backoff().nanos(attempts, call.lastBackoffNanos);
    RetryPolicy.Refusal refusal =
        policy.refusal(
            call.command, call.args, f, attempts, System.nanoTime() - call.startNanos, backoff,
            server == null ? null : server.budget());
    if (refusal != null) {
      refused(call, server, f, refusal);
      return -1;
    }
    if (server != null) {
      server.budgetAllowsAgain();
    }
    call.lastBackoffNanos = backoff;
    call.op.retrying(attempts + 1, f, backoff);
    sleep(backoff);
    return backoff;
  }

  static void end(JedisCall call, Throwable thrown, JedisConnState s) {
    Failure f = classify(thrown, s);
    call.op.end(f);
  }

  /**
   * Connection.executeCommand enter: one attempt of the current call, or (legacy Jedis, nothing
   * current) a call of its own. Prepares the connection (reconnects it when broken, health-checks
   * it when idle) and sets this attempt's read timeout.
   */
  public static JedisAttempt attemptEnter(Object connection, Object socketFactory, CommandObject<?> co) {
    JedisConnState s = state(connection, socketFactory);
    if (s.suppressed > 0) {
      return null;
    }
    JedisCall call = JedisContext.current();
    boolean owner = false;
    if (call == null) {
      call = newCall(co.getArguments(), JedisCall.OWN_RETRIES);
      JedisContext.enter(call);
      owner = true;
    }
    Connection conn = (Connection) connection;
    if (!call.batch) {
      prepare(conn, s);
    }
    call.op.bind(s.endpoint());
    call.lastServer = s.serverState();
    JedisAttempt a = new JedisAttempt(call, owner, s, call.op.attempt());
    s.flushFailed = false;
    if (!call.batch) {
      a.readTimeoutMillis = Policies.get().timeouts().attemptReadMillis(call.command, call.args);
    }
    return a;
  }

  /**
   * Attempt enter, second half: the advice handed over the connection's blocking timeout field.
   * Returns the value to put there for this attempt.
   */
  public static int attemptTimeout(JedisAttempt a, Object connection, boolean jedisBlocking, int infinite) {
    a.previousInfinite = infinite;
    if (a.readTimeoutMillis < 0) {
      return infinite;
    }
    int t = (int) Math.min(Integer.MAX_VALUE, a.readTimeoutMillis);
    Connection conn = (Connection) connection;
    if (!jedisBlocking && conn.isConnected()) {
      // Jedis only widens the timeout for commands it flags blocking (not WAIT, not per-command
      // timeouts): widen it here and roll it back after the attempt
      a.rollback = true;
      return t;
    }
    return t;
  }

  /** Applies the widened timeout to the socket, after the field holds it. */
  public static void applyAttemptTimeout(JedisAttempt a, Object connection) {
    if (a != null && a.rollback) {
      ((Connection) connection).setTimeoutInfinite();
    }
  }

  /** A broken connection is reconnected before use; one idle too long is health-checked. */
  static void prepare(Connection conn, JedisConnState s) {
    try {
      if (conn.isBroken()) {
        reconnect(conn, s);
        return;
      }
      long interval = Policies.get().healthCheckIntervalNanos();
      if (interval > 0 && conn.isConnected() && System.nanoTime() - s.lastUsedNanos > interval) {
        healthCheck(conn, s);
      }
    } catch (RuntimeException e) {
      // the attempt itself will meet (and report) the same problem
    }
  }

  static void healthCheck(Connection conn, JedisConnState s) {
    long t0 = System.nanoTime();
    boolean ok;
    try {
      ok = conn.ping(); // internal traffic (see ConnectionInstrumentation)
    } catch (JedisException e) {
      ok = false;
    }
    s.lastUsedNanos = System.nanoTime();
    Telemetry.jedis().resilience().healthCheck(s.serverState(), ok, s.lastUsedNanos - t0);
    if (!ok) {
      reconnect(conn, s); // replace it before the caller's command runs on it
    }
  }

  /**
   * Replaces the connection's socket and repeats its handshake (AUTH, HELLO, SELECT, CLIENT
   * SETNAME), which Jedis' own connect() does not.
   */
  static void reconnect(Connection conn, JedisConnState s) {
    // a connect to a server that is down is counted where connections are made (connectFailed,
    // established)
    ServerState server = s.serverState();
    boolean countHere = !server.isDown();
    boolean ok = false;
    try {
      replaceSocket(conn, s);
      ok = true;
    } finally {
      if (countHere) {
        Telemetry.jedis().resilience().reconnect(server, ok);
      }
    }
  }

  private static void replaceSocket(Connection conn, JedisConnState s) {
    long wanted = s.database(); // as the application left it: the handshake's, or a later SELECT
    try {
      conn.disconnect();
    } catch (RuntimeException ignored) {
      // already closed
    }
    long selected = 0; // a bare connect() leaves the new connection in database 0
    if (s.clientConfig == null) {
      conn.connect();
    } else {
      try {
        Method m = initializeFromClientConfig;
        if (m == null) {
          m = findInitialize(conn.getClass());
          m.setAccessible(true);
          initializeFromClientConfig = m;
        }
        m.invoke(conn, s.clientConfig);
        selected = ((JedisClientConfig) s.clientConfig).getDatabase();
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        if (cause instanceof RuntimeException) {
          throw (RuntimeException) cause;
        }
        throw new JedisConnectionException(cause);
      } catch (ReflectiveOperationException e) {
        conn.connect(); // no handshake method (unexpected version): at least a socket
      }
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

  private static Method findInitialize(Class<?> type) throws NoSuchMethodException {
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      try {
        return c.getDeclaredMethod("initializeFromClientConfig", JedisClientConfig.class);
      } catch (NoSuchMethodException e) {
        // look further up
      }
    }
    throw new NoSuchMethodException("initializeFromClientConfig");
  }

  /**
   * Connection.executeCommand exit. Records the attempt; on failure, retries per policy (agent's
   * own retries) or vetoes Jedis' retry (gatekeeper). Returns the outcome the caller gets.
   */
  public static Outcome attemptExit(
      JedisAttempt a, Object connection, CommandObject<?> co, Object returned, Throwable thrown) {
    JedisConnState s = a.state;
    JedisCall call = a.call;
    if (a.rollback) {
      try {
        ((Connection) connection).rollbackTimeout();
      } catch (RuntimeException ignored) {
        // broken connection: replaced before its next use
      }
    }
    s.lastUsedNanos = System.nanoTime();
    Failure f = classify(thrown, s);
    record(call, s.serverState(), f, s);
    if (f == null && !a.owner) {
      return null; // the common case: a successful attempt of a call someone else ends
    }
    Outcome out = new Outcome(returned, thrown);
    if (f != null && !call.retrying && !call.batch) {
      if (call.mode == JedisCall.GATEKEEPER) {
        gatekeep(call, s, f, out);
      } else if (a.owner) {
        retry((Connection) connection, co, call, s, f, out); // legacy Jedis: retry right here
      }
    }
    if (a.owner) {
      JedisContext.restore(null);
      call.op.end(classify(out.thrown, s));
    }
    return out;
  }

  /** The result of an attempt after the agent's retries: what the application gets. */
  public static final class Outcome {
    public Object value;
    public Throwable thrown;

    Outcome(Object value, Throwable thrown) {
      this.value = value;
      this.thrown = thrown;
    }
  }

  static void record(JedisCall call, ServerState server, Failure f) {
    record(call, server, f, null);
  }

  static void record(JedisCall call, ServerState server, Failure f, JedisConnState conn) {
    RetryPolicy policy = Policies.get().retries();
    if (f == null) {
      if (server != null) {
        server.budget().onSuccess();
      }
      return;
    }
    boolean blocking = call != null && call.command != null && call.command.isBlockingCommand();
    if (call != null) {
      call.lastFailure = f;
    }
    Telemetry.jedis().resilience().attemptFailed(f, server, blocking);
    if (server == null) {
      return;
    }
    if (policy.isRetryable(f)) {
      server.budget().onRetryableFailure();
    }
    if (f.kind() == Failure.Kind.CONNECTION
        && (conn == null || !server.predatesRecovery(conn.connectedNanos))
        && server.markDown(System.nanoTime())) {
      Telemetry.jedis().resilience().serverDown(server, f);
    }
  }

  /** Legacy Jedis: retries on the same Connection, reconnecting it in place when needed. */
  static void retry(Connection conn, CommandObject<?> co, JedisCall call, JedisConnState s, Failure first, Outcome out) {
    ResilienceTelemetry rt = Telemetry.jedis().resilience();
    Failure f = first;
    while (true) {
      if (decideRetry(call, f) < 0) {
        return;
      }
      Failure cause = f;
      call.retrying = true;
      try {
        if (conn.isBroken() || !conn.isConnected()) {
          try {
            reconnect(conn, s);
          } catch (RuntimeException e) {
            // the retry could not even connect: that is this attempt's failure
            call.op.attempt();
            f = classify(e, s);
            record(call, s.serverState(), f);
            rt.retry(call.command.name(), cause, TelemetryNames.OUTCOME_FAILURE);
            out.thrown = e;
            continue;
          }
        }
        out.value = conn.executeCommand(co);
        out.thrown = null;
        rt.retry(call.command.name(), cause, TelemetryNames.OUTCOME_SUCCESS);
        return;
      } catch (RuntimeException | Error e) {
        out.thrown = e;
        f = classify(e, s);
        rt.retry(call.command.name(), cause, TelemetryNames.OUTCOME_FAILURE);
      } finally {
        call.retrying = false;
      }
    }
  }

  static void refused(JedisCall call, ServerState server, Failure f, RetryPolicy.Refusal refusal) {
    if (refusal == RetryPolicy.Refusal.NOT_RETRYABLE || refusal == RetryPolicy.Refusal.NEVER) {
      return; // a WRONGTYPE is no retry decision worth a data point
    }
    ResilienceTelemetry rt = Telemetry.jedis().resilience();
    rt.retry(call.command.name(), f, refusal.value);
    call.op.retryRefused(refusal.value, f);
    if (refusal == RetryPolicy.Refusal.BUDGET_EXHAUSTED && server != null) {
      rt.budgetExhausted(server);
    }
  }

  /**
   * Jedis' own loop (cluster, retrying executor) retries every JedisConnectionException, within
   * its own maxAttempts and deadline; the agent adds no retries there. It lets Jedis retry unless
   * the retry is unsafe (the command may have run: INCR after a read timeout, jedis#3187) or over
   * the server's retry budget: then the failure is rethrown as an exception Jedis does not
   * retry, naming the reason.
   */
  static void gatekeep(JedisCall call, JedisConnState s, Failure f, Outcome out) {
    if (!(out.thrown instanceof JedisConnectionException)) {
      return; // redirections and server errors: Jedis' own business
    }
    RetryPolicy policy = Policies.get().retries();
    ServerState server = s.serverState();
    int attempts = call.op.attempts();
    // attempts and deadline are Jedis' to count: ask only about safety and budget
    RetryPolicy.Refusal refusal = policy.refusal(call.command, call.args, f, 0, 0, 0, server.budget());
    if (refusal == null || refusal == RetryPolicy.Refusal.NOT_RETRYABLE) {
      server.budgetAllowsAgain();
      call.op.retrying(attempts + 1, f, 0);
      Telemetry.jedis().resilience().retry(call.command.name(), f, "delegated");
      return;
    }
    refused(call, server, f, refusal);
    String message =
        (refusal == RetryPolicy.Refusal.NOT_IDEMPOTENT
                ? "outcome of " + call.command.name() + " unknown after " + f.errorType()
                    + "; not retried: the command is not idempotent"
                : call.command.name() + " failed (" + f.errorType() + "); not retried: "
                    + refusal.value)
            + " (redis-resilience-agent)";
    out.thrown =
        call.cluster
            ? new JedisClusterOperationException(message, out.thrown)
            : new JedisException(message, out.thrown);
  }

  /**
   * Connection.sendCommand enter. Inside a call the send is part of it; otherwise it is a
   * legacy-style command (sendCommand then a getXxxReply) whose reply ends it.
   */
  public static Operation sendEnter(Object connection, Object socketFactory, CommandArguments args) {
    JedisConnState s = state(connection, socketFactory);
    if (s.suppressed > 0) {
      return null;
    }
    JedisCall current = JedisContext.current();
    if (current != null) {
      current.op.bind(s.endpoint());
      return null;
    }
    if (!s.hasPending()) {
      prepare((Connection) connection, s);
    }
    JedisCall call = newCall(args, JedisCall.OBSERVE);
    call.op.bind(s.endpoint());
    call.op.attempt();
    s.flushFailed = false;
    return call.op;
  }

  public static void sendExit(Object connection, Operation op, Throwable thrown) {
    if (op == null) {
      return;
    }
    JedisConnState s = state(connection);
    if (thrown != null) {
      Failure f = classify(thrown, s);
      record(null, s.serverState(), f, s);
      op.end(f);
    } else {
      op.bind(s.endpoint()); // sendCommand may have connected: bind the peer too
      s.push(op);
    }
  }

  /** A reply was read (or reading failed): ends the oldest legacy-style command waiting for it. */
  public static void readExit(Object connection, Throwable thrown) {
    JedisConnState s = state(connection);
    if (s.suppressed > 0 || JedisContext.current() != null) {
      return;
    }
    Operation op = s.poll();
    if (op != null) {
      s.lastUsedNanos = System.nanoTime();
      Failure f = classify(thrown, s);
      record(null, s.serverState(), f, s);
      op.end(f);
    }
  }

  /** flush() failed: marks the attempt (its request never fully left) and fails waiting commands. */
  public static void flushFailed(Object connection, Throwable thrown) {
    if (thrown == null) {
      return;
    }
    JedisConnState s = state(connection);
    s.flushFailed = true;
    if (s.suppressed > 0 || JedisContext.current() != null) {
      return;
    }
    Failure f = classify(thrown, s);
    Operation op;
    while ((op = s.poll()) != null) {
      op.end(f);
    }
  }

  // --- pipelines and transactions ---------------------------------------------------------------

  static JedisBatch batch(Object pipeline, String name, boolean create) {
    StateHolder h = (StateHolder) pipeline;
    JedisBatch b = (JedisBatch) h.__rraState();
    if (b == null && create) {
      b = new JedisBatch(Telemetry.jedis().startBatch(name));
      h.__rraSetState(b);
    }
    return b;
  }

  /** appendCommand / multi enter: joins (or starts) the batch; returns the context to restore. */
  public static JedisCall batchStep(Object pipeline, String name, boolean countsCommand) {
    JedisBatch b = batch(pipeline, name, true);
    if (countsCommand) {
      b.size++;
    }
    return JedisContext.enter(b.call);
  }

  /** sync / exec / discard / close enter: returns the batch to end, or null. */
  public static JedisBatch batchEndEnter(Object pipeline) {
    JedisBatch b = batch(pipeline, null, false);
    if (b == null) {
      return null;
    }
    ((StateHolder) pipeline).__rraSetState(null);
    b.prev = JedisContext.enter(b.call);
    return b;
  }

  public static void batchEndExit(JedisBatch b, Throwable thrown) {
    if (b == null) {
      return;
    }
    JedisContext.restore(b.prev);
    b.call.op.setBatchSize(b.size);
    b.call.op.end(classify(thrown));
  }

  // --- error taxonomy ---------------------------------------------------------------------------

  static Failure classify(Throwable t, JedisConnState s) {
    Failure f = classify(t);
    if (f != null && s != null && s.flushFailed && f.phase() == Failure.Phase.MAYBE_SENT
        && (f.kind() == Failure.Kind.CONNECTION || f.kind() == Failure.Kind.TIMEOUT)) {
      // the write failed: the request never fully reached the server
      return f.kind() == Failure.Kind.TIMEOUT
          ? Failure.timeout(Failure.Phase.NOT_SENT, t)
          : Failure.connection(Failure.Phase.NOT_SENT, t);
    }
    return f;
  }

  /** Maps a Jedis exception to the agent's error taxonomy; null for success. */
  public static Failure classify(Throwable t) {
    if (t == null) {
      return null;
    }
    if (t instanceof JedisConnectionException) {
      return classifyConnection((JedisConnectionException) t);
    }
    if (t instanceof JedisDataException) {
      String code = Failure.statusCodeOf(t.getMessage());
      return code != null ? Failure.server(code, t) : Failure.other(t);
    }
    if (t instanceof JedisException) {
      // executors (and the agent's veto) wrap the last failure
      Throwable inner = t.getCause();
      if (inner == null && t.getSuppressed().length > 0) {
        inner = t.getSuppressed()[0];
      }
      if (inner instanceof JedisException && inner != t) {
        Failure f = classify(inner);
        if (f.kind() != Failure.Kind.OTHER) {
          return f;
        }
      }
    }
    return Failure.other(t);
  }

  private static Failure classifyConnection(JedisConnectionException e) {
    String message = String.valueOf(e.getMessage());
    if (message.startsWith("Attempting to write to a broken connection")) {
      return Failure.connection(Failure.Phase.NOT_SENT, e); // Jedis 8: refused before writing
    }
    Throwable cause = e.getCause();
    if (cause instanceof SocketTimeoutException) {
      String m = String.valueOf(cause.getMessage()).toLowerCase(java.util.Locale.ROOT);
      return m.contains("connect")
          ? Failure.timeout(Failure.Phase.NOT_SENT, e)
          : Failure.timeout(Failure.Phase.MAYBE_SENT, e);
    }
    if (cause == null) {
      // connect failures carry each address' failure as suppressed exceptions
      boolean timedOut = false;
      boolean any = false;
      for (Throwable s : e.getSuppressed()) {
        any = true;
        if (s instanceof SocketTimeoutException) {
          timedOut = true;
        }
      }
      if (any) {
        return timedOut
            ? Failure.timeout(Failure.Phase.NOT_SENT, e)
            : Failure.connection(Failure.Phase.NOT_SENT, e);
      }
    }
    if (cause instanceof java.net.ConnectException
        || cause instanceof java.net.UnknownHostException
        || cause instanceof java.net.NoRouteToHostException) {
      return Failure.connection(Failure.Phase.NOT_SENT, e);
    }
    return Failure.connection(Failure.Phase.MAYBE_SENT, e);
  }

  static void sleep(long nanos) {
    if (nanos <= 0) {
      return;
    }
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
