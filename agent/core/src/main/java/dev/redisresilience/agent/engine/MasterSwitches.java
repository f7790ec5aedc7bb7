package dev.redisresilience.agent.engine;

import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.ResilienceTelemetry;

/**
 * Sentinel failovers as the client sees them, the same for every client: a master that refuses
 * writes for its role (READONLY: it is a replica now; MASTERDOWN: a replica lost its master;
 * NOREPLICAS: min-replicas-to-write not met) starts the failover's downtime, and the client's
 * switch to the new master ends it with one {@code redis.client.sentinel.failover} record.
 */
public final class MasterSwitches {
  private MasterSwitches() {}

  /** An attempt on {@code server} failed with {@code f}. */
  public static void attemptFailed(ServerState server, Failure f) {
    if (server != null && refusedForRole(f)) {
      server.markRefusingWrites(System.nanoTime());
    }
  }

  /** READONLY, MASTERDOWN or NOREPLICAS: the server refused the write for its role. */
  public static boolean refusedForRole(Failure f) {
    String code = f.statusCode();
    return code != null
        && (code.equals("READONLY") || code.equals("MASTERDOWN") || code.equals("NOREPLICAS"));
  }

  /** The client switched from master {@code previous} to {@code next} (both non-null, different). */
  public static void switched(ResilienceTelemetry t, ServerState previous, ServerState next) {
    long now = System.nanoTime();
    next.refusingWritesEnded(now); // refusals from its time as a replica are no downtime of this one
    t.sentinelFailover(previous, next, previous.refusingWritesEnded(now));
  }
}
