package dev.redisresilience.agent.instrumentation.jedis;

import static dev.redisresilience.agent.telemetry.TelemetryNames.OUTCOME_FAILURE;
import static dev.redisresilience.agent.telemetry.TelemetryNames.OUTCOME_SUCCESS;

import dev.redisresilience.agent.core.SessionEffect;
import dev.redisresilience.agent.maintenance.ConnectionMaintenance;
import dev.redisresilience.agent.maintenance.MaintenanceNotice;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.ResilienceTelemetry;
import dev.redisresilience.agent.telemetry.Telemetry;
import redis.clients.jedis.Connection;

/**
 * The hand-off of one Jedis connection after MOVING, before its next command (the command that
 * was in flight when the notification came has finished on the old endpoint by then): the socket
 * is replaced in place through the agent's reconnect, whose socket factory now reaches the new
 * endpoint ({@link JedisMoves}), with the handshake and the database restored; the old socket is
 * closed. Pooled connections hand off the same way at their next use, so a pool ends up with
 * connections to the new endpoint only, and the connections it makes go there too.
 *
 * <p>A connection in a transaction (WATCH, MULTI), subscribed, or carrying state the agent cannot
 * restore stays where it is until that state ends: it is never switched mid-transaction. A planned
 * hand-off is not an outage: no connection-down record, no downtime, no reconnect counted; it is
 * a {@code redis.client.connection.handoff} and a connection replaced for reason {@code moving}.
 */
final class JedisHandoffs {
  /** Why a connection was replaced, on its {@code redis.client.connection.replaced} record. */
  static final String REPLACED_MOVING = "moving";

  private JedisHandoffs() {}

  private static ResilienceTelemetry telemetry() {
    return Telemetry.jedis().resilience();
  }

  /**
   * Before an attempt on {@code conn}: hands it off when its endpoint moved. True when it did
   * (the command runs on the new socket); false when nothing was to do, the connection must stay
   * for now, or the hand-off failed (the connection is broken then, and prepare's reconnect takes
   * it back to the old endpoint).
   */
  static boolean beforeCommand(Connection conn, JedisConnState s) {
    JedisMoves.Move m = JedisMoves.pendingFor(s);
    return m != null && handOff(conn, s, m);
  }

  static boolean handOff(Connection conn, JedisConnState s, JedisMoves.Move m) {
    if (!s.session.restorableInPlace(SessionEffect.NONE)) {
      return false; // finish the transaction (or keep the state) first: asked again next command
    }
    ServerState from = s.serverState();
    ConnectionMaintenance cm = s.maintenance;
    MaintenanceNotice own = cm != null ? cm.pendingMove() : null;
    long pushedAt = own != null ? cm.pendingMoveAt() : m.at;
    if (m.to != null) {
      s.server(m.to.getHost(), m.to.getPort()); // a failed connect counts against the new endpoint
    }
    try {
      JedisConnections.replace(conn, s, false);
    } catch (RuntimeException e) {
      ServerState to = s.serverState();
      if (m.to != null) {
        s.server(from.address(), from.port());
        s.moved = false;
        JedisMoves.giveUp(m); // sockets for the old endpoint go there again
      }
      telemetry().maintenance().handoff(from, to, OUTCOME_FAILURE, System.nanoTime() - pushedAt);
      return false;
    }
    if (own != null) {
      cm.moveHandled(own);
    }
    ServerState to = s.serverState();
    telemetry().maintenance().handoff(from, to, OUTCOME_SUCCESS, System.nanoTime() - pushedAt);
    telemetry().connectionEvents().replaced(from, REPLACED_MOVING);
    return true;
  }
}
