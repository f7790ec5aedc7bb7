package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.telemetry.Endpoint;
import dev.redisresilience.agent.telemetry.Operation;
import dev.redisresilience.agent.telemetry.Telemetry;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.policy.ServerState;
import java.util.ArrayDeque;

/**
 * The agent's state for one Jedis {@code Connection} (JDK types only; loaded from the bootstrap
 * path). Held in a field the agent adds to the connection. Members used by the injected helper are
 * public: the helper is defined in the client's loader, a different runtime package.
 */
public final class JedisConnState {
  /** Above zero while the client talks to the server for itself (handshake, pool checks ...). */
  public volatile int suppressed;

  private String serverAddress;
  private int serverPort;
  private String peerAddress;
  private int peerPort;
  private long database;
  private volatile Endpoint endpoint;
  private volatile ServerState server;

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

  /** Commands sent with sendCommand whose reply has not been read yet (legacy Jedis style). */
  private final ArrayDeque<Operation> pending = new ArrayDeque<>(2);

  public boolean hasServer() {
    return serverAddress != null;
  }

  public void server(String address, int port) {
    serverAddress = address;
    serverPort = port;
    endpoint = null;
    server = null;
  }

  /** The retry budget and outage state of this connection's server. */
  public ServerState serverState() {
    ServerState s = server;
    if (s == null) {
      s = ServerRegistry.server("jedis", serverAddress, serverPort);
      server = s;
    }
    return s;
  }

  public void peer(String address, int port, String fallbackServerAddress) {
    peerAddress = address;
    peerPort = port;
    if (serverAddress == null) {
      serverAddress = fallbackServerAddress;
      serverPort = port;
      server = null;
    }
    endpoint = null;
  }

  /** The database the connection is in: the handshake's, then whatever SELECT chose. */
  public long database() {
    return database;
  }

  public void database(long db) {
    if (db != database) {
      database = db;
      endpoint = null;
    }
  }

  public Endpoint endpoint() {
    Endpoint e = endpoint;
    if (e == null) {
      e = Telemetry.jedis().endpoint(serverAddress, serverPort, peerAddress, peerPort, database);
      endpoint = e;
    }
    return e;
  }

  public void push(Operation op) {
    synchronized (pending) {
      pending.addLast(op);
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
