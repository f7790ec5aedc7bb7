package dev.redisresilience.harness.demo;

import dev.redisresilience.harness.FaultProxy;
import dev.redisresilience.harness.MaintenanceNotification;
import dev.redisresilience.harness.MaintenanceSimulator;
import dev.redisresilience.harness.MaintenanceSimulator.Endpoint;
import dev.redisresilience.harness.RedisServer;
import java.time.Duration;

/**
 * The demo's faults: when each starts and ends, scaled to the run's length (30 s by default).
 * The README's table, the dashboard picture and the Prometheus test all run this one timeline.
 * The app talks to the primary endpoint of a {@link MaintenanceSimulator}: a proxy that injects
 * the faults and pushes the maintenance notifications Redis Software would send.
 */
public final class FaultTimeline {
  /** How slow replies are during both slow phases: above the demo app's 1 s timeout. */
  public static final Duration SLOW_REPLY = Duration.ofMillis(1500);

  public final int loadingFrom;
  public final int loadingTo;
  public final int slowFrom;
  public final int slowTo;
  public final int kill;
  public final int restart;
  /** MIGRATING pushed and replies slowed: relaxed timeouts, so nothing times out. */
  public final int migratingFrom;
  /** MIGRATED pushed, replies fast again. */
  public final int migratedAt;
  /** MOVING to the simulator's second redis-server pushed: the clients hand off. */
  public final int movingAt;

  public FaultTimeline(int seconds) {
    loadingFrom = Math.max(2, seconds * 5 / 30);
    loadingTo = loadingFrom + Math.max(1, seconds * 3 / 30);
    slowFrom = loadingTo + Math.max(1, seconds * 2 / 30);
    slowTo = slowFrom + Math.max(1, seconds * 2 / 30);
    kill = slowTo + Math.max(1, seconds * 3 / 30);
    restart = kill + Math.max(1, seconds * 3 / 30);
    migratingFrom = restart + Math.max(1, seconds * 3 / 30);
    migratedAt = migratingFrom + Math.max(1, seconds * 2 / 30);
    movingAt = migratedAt + Math.max(1, seconds * 2 / 30);
  }

  /** One line for the demo's header: what happens when. */
  public String describe() {
    return loadingFrom + "s-" + loadingTo + "s 20 GETs a second are answered -LOADING; "
        + slowFrom + "s-" + slowTo + "s replies take 1.5s (the app's timeout is 1s); at " + kill
        + "s redis-server is killed (SIGKILL), at " + restart + "s it is back; " + migratingFrom
        + "s-" + migratedAt + "s a maintenance window (MIGRATING, replies take 1.5s again, then"
        + " MIGRATED); at " + movingAt + "s MOVING to a second redis-server.";
  }

  /** Applies the faults due at second {@code t}; returns a marker for the summary line. */
  public String apply(int t, MaintenanceSimulator sim) {
    FaultProxy proxy = sim.proxy(Endpoint.PRIMARY);
    RedisServer redis = sim.server(Endpoint.PRIMARY);
    if (t >= loadingFrom && t < loadingTo) {
      // 20 GETs a second get -LOADING (a replica loading its dataset): retried, not failed
      proxy.injectError("GET", "LOADING Redis is loading the dataset in memory", 20);
      return t == loadingFrom ? "  <- some GETs answered -LOADING" : "";
    }
    if (t == loadingTo) {
      proxy.clearFaults();
      return "";
    }
    if (t == slowFrom) {
      proxy.delayReplies(SLOW_REPLY);
      return "  <- replies take 1.5s from now";
    }
    if (t == slowTo) {
      proxy.clearFaults();
      return "  <- replies fast again";
    }
    if (t == kill) {
      redis.kill9();
      return "  <- redis-server killed (SIGKILL)";
    }
    if (t == restart) {
      redis.startProcess();
      return "  <- redis-server restarted";
    }
    if (t == migratingFrom) {
      int n = sim.pushToOptedIn(
          Endpoint.PRIMARY, MaintenanceNotification.migrating(1, migratedAt - migratingFrom, "1"));
      sim.slowReplies(SLOW_REPLY, Duration.ofSeconds(migratedAt - migratingFrom));
      return "  <- MIGRATING pushed to " + n + " opted-in connections, replies take 1.5s";
    }
    if (t == migratedAt) {
      sim.stopSlowReplies(Endpoint.PRIMARY);
      int n = sim.pushToOptedIn(Endpoint.PRIMARY, MaintenanceNotification.migrated(2, "1"));
      return "  <- MIGRATED pushed to " + n + ", replies fast again";
    }
    if (t == movingAt) {
      int n = sim.pushToOptedIn(
          Endpoint.PRIMARY, MaintenanceNotification.moving(3, 15, sim.targetAddress()));
      return "  <- MOVING to " + sim.targetAddress() + " pushed to " + n;
    }
    return "";
  }
}
