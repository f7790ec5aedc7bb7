package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.CommandTable;
import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.telemetry.ClientTelemetry;
import dev.redisresilience.agent.telemetry.Operation;
import dev.redisresilience.agent.telemetry.Telemetry;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisSocketFactory;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Everything the Jedis advice does, behind one-line calls. Touches Jedis types, so it is injected
 * into the class loader that loaded Jedis; everything it keeps is JDK- or agent-typed.
 */
public final class JedisHelper {
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

  /** connect() exit: the peer the socket really reached. */
  public static void connected(Object connection, Object socketFactory, Socket socket) {
    if (socket == null) {
      return;
    }
    SocketAddress remote = socket.getRemoteSocketAddress();
    if (remote instanceof InetSocketAddress) {
      InetSocketAddress a = (InetSocketAddress) remote;
      String ip = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
      JedisConnState s = state(connection, socketFactory);
      s.peer(ip, a.getPort(), a.getHostString());
      Operation current = JedisContext.current();
      if (current != null && s.suppressed == 0) {
        current.bind(s.endpoint()); // connected lazily inside the operation: now with the peer
      }
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

  static Operation start(CommandArguments args) {
    ClientTelemetry t = Telemetry.jedis();
    CommandInfo cmd = CommandTable.get().lookup(args.getCommand().getRaw());
    String text = t.queryTextEnabled() ? t.queryText(cmd, new JedisArgs(args)) : null;
    return t.start(cmd, text);
  }

  /** UnifiedJedis.executeCommand enter: a new logical operation unless one is running. */
  public static Operation unifiedEnter(CommandArguments args) {
    if (JedisContext.current() != null) {
      return null;
    }
    Operation op = start(args);
    JedisContext.enter(op);
    return op;
  }

  public static void unifiedExit(Operation op, Throwable thrown) {
    if (op != null) {
      JedisContext.restore(null);
      op.end(classify(thrown));
    }
  }

  /**
   * Connection.executeCommand enter: an attempt of the current operation, or (legacy Jedis,
   * nothing current) an operation of its own.
   */
  public static Operation executeEnter(Object connection, Object socketFactory, CommandArguments args) {
    JedisConnState s = state(connection, socketFactory);
    if (s.suppressed > 0) {
      return null;
    }
    Operation current = JedisContext.current();
    if (current != null) {
      current.bind(s.endpoint());
      return null;
    }
    Operation op = start(args);
    op.bind(s.endpoint());
    JedisContext.enter(op);
    return op;
  }

  public static void executeExit(Operation op, Throwable thrown) {
    if (op != null) {
      JedisContext.restore(null);
      op.end(classify(thrown));
    }
  }

  /**
   * Connection.sendCommand enter. Inside an operation the send is part of it; otherwise it is a
   * legacy-style command (sendCommand then a getXxxReply) whose reply ends it.
   */
  public static Operation sendEnter(Object connection, Object socketFactory, CommandArguments args) {
    JedisConnState s = state(connection, socketFactory);
    if (s.suppressed > 0) {
      return null;
    }
    Operation current = JedisContext.current();
    if (current != null) {
      current.bind(s.endpoint());
      return null;
    }
    Operation op = start(args);
    op.bind(s.endpoint());
    return op;
  }

  public static void sendExit(Object connection, Operation op, Throwable thrown) {
    if (op == null) {
      return;
    }
    if (thrown != null) {
      op.end(classify(thrown));
    } else {
      JedisConnState s = state(connection);
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
      op.end(classify(thrown));
    }
  }

  /** flush() failed: nothing waiting on this connection will get a reply. */
  public static void flushFailed(Object connection, Throwable thrown) {
    if (thrown == null) {
      return;
    }
    JedisConnState s = state(connection);
    if (s.suppressed > 0 || JedisContext.current() != null) {
      return;
    }
    Failure f = classify(thrown);
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
  public static Operation batchStep(Object pipeline, String name, boolean countsCommand) {
    JedisBatch b = batch(pipeline, name, true);
    if (countsCommand) {
      b.size++;
    }
    return JedisContext.enter(b.op);
  }

  /** sync / exec / discard / close enter: returns the batch to end, or null. */
  public static JedisBatch batchEndEnter(Object pipeline) {
    JedisBatch b = batch(pipeline, null, false);
    if (b == null) {
      return null;
    }
    ((StateHolder) pipeline).__rraSetState(null);
    b.prev = JedisContext.enter(b.op);
    return b;
  }

  public static void batchEndExit(JedisBatch b, Throwable thrown) {
    if (b == null) {
      return;
    }
    JedisContext.restore(b.prev);
    b.op.setBatchSize(b.size);
    b.op.end(classify(thrown));
  }

  // --- error taxonomy ---------------------------------------------------------------------------

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
      // executors wrap the last failure: "No more attempts left", "Cluster retry deadline exceeded"
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
}
