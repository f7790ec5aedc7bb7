package dev.redisresilience.agent.engine;

import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.ResilienceTelemetry;

/**
 * Whether a server is down, for every client the same way: an outage starts when a new
 * connection to the server cannot be made, and ends when one is made again. An established
 * connection that breaks is not an outage (no downtime sample, no down event): the next connect
 * tells whether the server is gone.
 */
public final class OutageTracker {
  private final ResilienceTelemetry telemetry;

  public OutageTracker(ResilienceTelemetry telemetry) {
    this.telemetry = telemetry;
  }

  /** True when this instance reports to {@code t} (callers cache one per telemetry installed). */
  public boolean reportsTo(ResilienceTelemetry t) {
    return telemetry == t;
  }

  /**
   * A connect (or the handshake after it) failed. While the server is down this is a failed
   * reconnect; otherwise it starts an outage.
   */
  public void connectFailed(ServerState server, Failure f) {
    if (server.isDown()) {
      telemetry.reconnect(server, false);
    } else if (server.markDown(System.nanoTime())) {
      telemetry.serverDown(server, f);
    }
  }

  /** A new connection is usable: ends the outage if there is one. */
  public void connected(ServerState server) {
    if (!server.isDown()) {
      return;
    }
    telemetry.reconnect(server, true);
    long downtime = server.markUp(System.nanoTime());
    if (downtime >= 0) {
      telemetry.serverRestored(server, downtime);
    }
  }
}
