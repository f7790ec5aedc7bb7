package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.engine.ConnectionState;
import dev.redisresilience.agent.maintenance.ConnectionMaintenance;
import dev.redisresilience.agent.telemetry.Operation;
import java.util.ArrayDeque;

/**
 * The agent's state for one Jedis {@code Connection} (JDK types only; loaded from the bootstrap
 * path): the client-neutral {@link ConnectionState} plus what Jedis' handshake, legacy-style
 * commands and in-place replacement need. Held in a field the agent adds to the connection.
 * Members used by the injected helpers are public: they live in the client's loader.
 */
public final class JedisConnState extends ConnectionState {
  /**
   * The connection's JedisSocketFactory (final in Connection). JedisSentinelPool's connections
   * share one, which its switch re-points at the new master.
   */
  public Object socketFactory;
  /** The JedisClientConfig of the handshake, to run it again after an in-place reconnect. */
  public Object clientConfig;
  /** System.nanoTime() when the connection was last used (or made). */
  public long lastUsedNanos = System.nanoTime();
  /** Inside the handshake: a new connection is usable only after it. */
  public boolean handshaking;
  /** The connect itself failed during this handshake (counted once, there). */
  public boolean connectFailureCounted;
  /** System.nanoTime() when the current socket was connected (0: not yet). */
  public long connectedNanos;
  /** The current attempt's flush failed: its request cannot have been executed. */
  public boolean flushFailed;
  /**
   * The agent closed the socket to replace it and could not make the new one usable: until it
   * does, the connection must not be connected bare by the client (no AUTH, no SELECT).
   */
  public boolean agentDisconnected;
  /** Why the last replacement failed; the cause of the errors while {@link #agentDisconnected}. */
  public Throwable replaceFailure;
  /** The agent itself is replacing the socket (its connect and handshake are allowed). */
  public boolean replacing;
  /**
   * Between an application command's enter and exit advice: a socket Jedis opens now is opened
   * for that command, whose session effect is already booked.
   */
  public boolean inCommand;
  /** The handshake asked for RESP3 (Jedis 5+): push frames may arrive before any reply. */
  public boolean resp3;
  /** Maintenance state, made at the first notification on this connection (null before). */
  public ConnectionMaintenance maintenance;
  /** Named after the endpoint a MOVING sent it to, not the one its socket factory is configured for. */
  public boolean moved;
  /** The socket's read timeout before the agent relaxed it, and the relaxed one (0: not relaxed). */
  public int relaxedFromMillis;
  public int relaxedToMillis;

  /**
   * Commands sent with sendCommand whose reply has not been read yet (legacy Jedis style). A
   * connection whose replies are never read (CLIENT REPLY OFF) cannot grow it past this.
   */
  static final int MAX_PENDING = 1024;

  private final ArrayDeque<Operation> pending = new ArrayDeque<>(2);

  /**
   * The reusable call of this connection's legacy-style commands (sendCommand, then a reply
   * read): taken from the send until the reply ends its operation, on the thread using the
   * connection (a Jedis connection is used by one thread at a time; a pool's hand-over orders
   * the threads). A send while it waits for its reply makes a call of its own.
   */
  public JedisCall sendCall;

  public JedisConnState() {
    super("jedis");
  }

  public void push(Operation op) {
    Operation evicted = null;
    synchronized (pending) {
      if (pending.size() >= MAX_PENDING) {
        evicted = pending.pollFirst();
      }
      pending.addLast(op);
    }
    if (evicted != null) {
      evicted.end(null); // its reply never came (CLIENT REPLY OFF): sent is all that is known
    }
  }

  public Operation poll() {
    synchronized (pending) {
      return pending.pollFirst();
    }
  }

  public boolean hasPending() {
    synchronized (pending) {
      return !pending.isEmpty();
    }
  }
}
