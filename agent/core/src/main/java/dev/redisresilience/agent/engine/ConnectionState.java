package dev.redisresilience.agent.engine;

import dev.redisresilience.agent.core.SessionState;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.ClientTelemetry;
import dev.redisresilience.agent.telemetry.Endpoint;
import dev.redisresilience.agent.telemetry.Telemetry;

/**
 * What the agent tracks for one client connection, whatever the client: the server it was asked
 * for and the peer it reached, the database it is in, the telemetry endpoint of that triple, the
 * server's shared state (budget, outage), whether the client is talking to the server for itself
 * (handshake, pool checks: not application operations), and the session state the application
 * set on it. Each client's connection state extends it with what only that client needs.
 */
public class ConnectionState {
  /** Above zero while the client talks to the server for itself (handshake, pool checks ...). */
  public volatile int suppressed;
  /** What the application set on this connection beyond the handshake (WATCH, MULTI ...). */
  public final SessionState session = new SessionState();

  private final String client;
  private String serverAddress;
  private int serverPort;
  private String peerAddress;
  private int peerPort;
  private long database;
  private volatile Endpoint endpoint;
  private volatile ServerState server;

  /** @param client the client library's name, as in {@link ServerRegistry#server} ("jedis" ...) */
  protected ConnectionState(String client) {
    this.client = client;
  }

  public boolean hasServer() {
    return serverAddress != null;
  }

  /** The server the client was asked to connect to (host as configured). */
  public void server(String address, int port) {
    serverAddress = address;
    serverPort = port;
    endpoint = null;
    server = null;
  }

  /** True when the server the client was asked for is {@code address}:{@code port}. */
  public boolean isServer(String address, int port) {
    return port == serverPort && address != null && address.equals(serverAddress);
  }

  /** The peer the socket reached; it names the server too when nothing else did. */
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

  /** The retry budget and outage state of this connection's server. */
  public ServerState serverState() {
    ServerState s = server;
    if (s == null) {
      s = ServerRegistry.server(client, serverAddress, serverPort);
      server = s;
    }
    return s;
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

  /** The telemetry endpoint (server, peer, database), cached until one of them changes. */
  public Endpoint endpoint() {
    Endpoint e = endpoint;
    if (e == null) {
      e = telemetry().endpoint(serverAddress, serverPort, peerAddress, peerPort, database);
      endpoint = e;
    }
    return e;
  }

  private ClientTelemetry telemetry() {
    return "lettuce".equals(client) ? Telemetry.lettuce() : Telemetry.jedis();
  }
}
