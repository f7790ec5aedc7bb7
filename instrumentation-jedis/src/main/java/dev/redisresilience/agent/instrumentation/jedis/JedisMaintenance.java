package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.AgentLog;
import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.maintenance.ConnectionMaintenance;
import dev.redisresilience.agent.maintenance.MaintenanceNotice;
import dev.redisresilience.agent.maintenance.MaintenancePolicy;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.MaintenanceTelemetry;
import dev.redisresilience.agent.telemetry.Telemetry;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Smart Client Handoffs for Jedis 5.x-8.0.x on RESP3, which has none of its own: the opt-in after
 * the handshake, the notifications {@link JedisPushes} consumed, and the relaxed read timeout of a
 * connection during a maintenance window. RESP2 connections (all of Jedis 4.x) are left as they
 * are: the agent does not switch a client to RESP3 (replies change shape for the application).
 */
public final class JedisMaintenance {
  private static volatile boolean optInRefusalLogged;

  private JedisMaintenance() {}

  private static MaintenanceTelemetry telemetry() {
    return Telemetry.jedis().resilience().maintenance();
  }

  /** Handshake enter: whether the connection speaks RESP3 (Jedis 4.x has no RESP3). */
  public static void handshaking(JedisConnState s, JedisClientConfig config) {
    if (s == null) {
      return;
    }
    try {
      s.resp3 = config.getRedisProtocol() == RedisProtocol.RESP3;
    } catch (LinkageError jedis4) {
      s.resp3 = false;
    }
  }

  /**
   * Handshake exit, still inside the handshake's internal traffic: opts a RESP3 connection in to
   * maintenance notifications (auto and on). auto: a refusal (a server without them, e.g. redis
   * 7.0's "unknown subcommand") is silent; on: logged once.
   */
  public static void optIn(Object connection, JedisConnState s, Throwable thrown) {
    if (s == null || thrown != null || !s.resp3) {
      return;
    }
    MaintenancePolicy p = MaintenancePolicy.get();
    if (!p.enabled()) {
      return;
    }
    Connection conn = (Connection) connection;
    CommandArguments args = new CommandArguments(Protocol.Command.CLIENT);
    List<String> opt = p.optInArgs(s.hasServer() ? s.serverState().address() : null);
    for (int i = 1; i < opt.size(); i++) {
      args.add(opt.get(i));
    }
    try {
      conn.sendCommand(args);
      conn.getOne();
    } catch (JedisDataException refused) {
      if (p.mode() == MaintenancePolicy.Mode.ON && !optInRefusalLogged) {
        optInRefusalLogged = true;
        AgentLog.warn("maintenance.enabled=on but the server refused CLIENT MAINT_NOTIFICATIONS: "
            + firstLine(refused.getMessage()) + " (logged once)");
      }
    }
  }

  /** A push of a maintenance type: parsed, reported, applied to the connection's timeouts. */
  static void notice(JedisConnState s, List<?> frame) {
    ServerState server = s.hasServer() ? s.serverState() : null;
    MaintenanceNotice n;
    try {
      n = MaintenanceNotice.parse(frame);
    } catch (MaintenanceNotice.MalformedNoticeException e) {
      telemetry().rejected(server, "malformed", e.getMessage());
      return;
    }
    telemetry().notification(server, n, "agent");
    JedisCall call = JedisContext.current();
    if (call != null && call.op != null) {
      call.op.maintenanceNotified(n.type().name(), n.seq());
    }
    MaintenancePolicy p = MaintenancePolicy.get();
    if (!p.enabled()) {
      return; // reported, not acted on
    }
    ConnectionMaintenance cm = s.maintenance;
    if (cm == null) {
      cm = new ConnectionMaintenance(server);
      s.maintenance = cm;
      telemetry().relaxable(cm);
    }
    long now = System.nanoTime();
    cm.apply(n, p, now);
    if (n.type() == MaintenanceNotice.Type.MOVING) {
      JedisMoves.moving(server, n, p, now); // hand-offs happen before the connections' next commands
    }
  }

  /** Connection.disconnect exit: a new socket starts without maintenance state. */
  public static void disconnected(Object connection) {
    if (!(connection instanceof StateHolder)) {
      return;
    }
    JedisConnState s = JedisConnections.state(connection);
    ConnectionMaintenance cm = s.maintenance;
    if (cm != null) {
      cm.closed();
      s.maintenance = null;
      s.relaxedToMillis = 0;
    }
  }

  /** A push nobody knows, on a connection whose replies it would otherwise replace. */
  static void unknown(JedisConnState s, String type) {
    telemetry().rejected(
        s.hasServer() ? s.serverState() : null,
        "unknown_type",
        "push of type " + (type == null ? "?" : clip(type)));
  }

  /**
   * Before a read: the socket's read timeout is the relaxed one while the connection is in a
   * maintenance window, and the one it had before once the window (and its grace) ended. A
   * timeout someone else set meanwhile (a blocking or per-command-timed attempt) is the new base;
   * an infinite one stays infinite.
   */
  static void adjustTimeout(JedisConnState s, Object socket) {
    ConnectionMaintenance cm = s.maintenance;
    if (cm == null || !(socket instanceof Socket)) {
      return;
    }
    Socket sock = (Socket) socket;
    try {
      int current = sock.getSoTimeout();
      if (s.relaxedToMillis != 0 && current != s.relaxedToMillis) {
        s.relaxedToMillis = 0; // changed by Jedis or the agent's attempt timeouts: the new base
      }
      int base = s.relaxedToMillis != 0 ? s.relaxedFromMillis : current;
      if (base == 0) {
        return;
      }
      long wantNanos = cm.timeoutNanos(base * 1_000_000L, MaintenancePolicy.get(), System.nanoTime());
      int want = (int) Math.min(Integer.MAX_VALUE, wantNanos / 1_000_000L);
      if (want != current) {
        sock.setSoTimeout(want);
      }
      if (want == base) {
        s.relaxedToMillis = 0;
      } else {
        s.relaxedFromMillis = base;
        s.relaxedToMillis = want;
      }
    } catch (SocketException closed) {
      // the read that follows reports it
    }
  }

  private static String firstLine(String m) {
    if (m == null) {
      return "?";
    }
    int nl = m.indexOf('\n');
    return clip(nl < 0 ? m : m.substring(0, nl));
  }

  private static String clip(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }
}
