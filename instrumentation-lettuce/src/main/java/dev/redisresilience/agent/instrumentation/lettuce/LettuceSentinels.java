package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.engine.MasterSwitches;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.Telemetry;
import io.lettuce.core.RedisURI;
import io.lettuce.core.models.role.RedisNodeDescription;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import java.util.Collection;

/**
 * Lettuce with Sentinel: the sentinel connection's master discovery (SENTINEL
 * get-master-addr-by-name ...) is the client's own traffic, not an operation; a Master/Replica
 * topology refresh that names another master is a {@code redis.client.sentinel.failover} record.
 * Injected next to Lettuce.
 */
public final class LettuceSentinels {
  /** The client name of Lettuce's server states (as LettuceConnections'). */
  private static final String CLIENT = "lettuce";

  private LettuceSentinels() {}

  /**
   * Depth of Lettuce's own connects on this thread (its sentinel watch, its topology refresh):
   * the connection objects RedisClient makes meanwhile are the client's own. Only at connect
   * time, never per command.
   */
  private static final ThreadLocal<int[]> INTERNAL_CONNECTS = ThreadLocal.withInitial(() -> new int[1]);

  /**
   * True when {@code connection} (a dispatching RedisChannelHandler) talks to a sentinel, or is
   * one of the topology machinery's own connections.
   */
  static boolean sentinelTraffic(Object connection) {
    if (connection instanceof StatefulRedisSentinelConnection) {
      return true;
    }
    if (connection instanceof StateHolder) {
      Object s = ((StateHolder) connection).__rraState();
      return s instanceof LettuceSession && ((LettuceSession) s).clientInternal;
    }
    return false;
  }

  public static void internalConnectsBegin() {
    INTERNAL_CONNECTS.get()[0]++;
  }

  public static void internalConnectsEnd() {
    int[] depth = INTERNAL_CONNECTS.get();
    if (depth[0] > 0) {
      depth[0]--;
    }
  }

  /** RedisClient made a connection object: inside one of Lettuce's own connects, it is theirs. */
  public static void connectionCreated(Object connection) {
    if (INTERNAL_CONNECTS.get()[0] > 0) {
      LettuceSession s = LettuceOperations.session(connection);
      if (s != null) {
        s.clientInternal = true;
      }
    }
  }

  /**
   * MasterReplicaConnectionProvider.setKnownNodes enter (6.1+): {@code current} its nodes until
   * now, {@code next} the refreshed ones.
   */
  public static void knownNodes(Object current, Object next) {
    RedisURI previousMaster;
    RedisURI nextMaster;
    try {
      previousMaster = master(current);
      nextMaster = master(next);
    } catch (RuntimeException changedMeanwhile) {
      return; // another refresh replaced the list while it was read: that one reports
    }
    if (previousMaster == null
        || nextMaster == null
        || (previousMaster.getHost().equals(nextMaster.getHost())
            && previousMaster.getPort() == nextMaster.getPort())) {
      return; // the first topology, no master known, or the same master
    }
    MasterSwitches.switched(Telemetry.lettuce().resilience(), server(previousMaster), server(nextMaster));
  }

  private static RedisURI master(Object nodes) {
    if (nodes instanceof Collection) {
      for (Object n : (Collection<?>) nodes) {
        if (n instanceof RedisNodeDescription && ((RedisNodeDescription) n).getRole().isUpstream()) {
          return ((RedisNodeDescription) n).getUri();
        }
      }
    }
    return null;
  }

  private static ServerState server(RedisURI uri) {
    return ServerRegistry.server(CLIENT, uri.getHost(), uri.getPort());
  }
}
