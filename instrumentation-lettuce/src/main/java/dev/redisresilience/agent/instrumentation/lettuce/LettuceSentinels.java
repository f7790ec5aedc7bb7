package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.engine.MasterSwitches;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.Telemetry;
import io.lettuce.core.RedisURI;
import io.lettuce.core.models.role.RedisNodeDescription;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import io.netty.channel.Channel;
import java.util.Collection;

/**
 * Lettuce with Sentinel: the sentinel connection's master discovery (SENTINEL
 * get-master-addr-by-name ...), Master/Replica's sentinel watch and its topology refresh's node
 * connections are the client's own traffic, not operations; a Master/Replica topology refresh
 * that names another master, or a standalone sentinel-URI connection reconnecting to another
 * server, is a {@code redis.client.sentinel.failover} record; such a standalone connection still
 * on a demoted master is made to reconnect. Injected next to Lettuce.
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

  /** Depth of RedisClient connects from a Sentinel RedisURI on this thread (connect time only). */
  private static final ThreadLocal<int[]> SENTINEL_CONNECTS = ThreadLocal.withInitial(() -> new int[1]);

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

  /** RedisClient.connectStandaloneAsync enter; true when {@link #standaloneConnectEnd} is due. */
  public static boolean standaloneConnectBegin(Object uri) {
    if (uri instanceof RedisURI && !((RedisURI) uri).getSentinels().isEmpty()) {
      SENTINEL_CONNECTS.get()[0]++;
      return true;
    }
    return false;
  }

  public static void standaloneConnectEnd(boolean begun) {
    if (begun) {
      int[] depth = SENTINEL_CONNECTS.get();
      if (depth[0] > 0) {
        depth[0]--;
      }
    }
  }

  /**
   * An attempt of {@code call} failed. READONLY on a standalone connection from a Sentinel
   * RedisURI: the server it reached was demoted (a failover, or a REPLICAOF), and the connection
   * would take every write there for as long as it stays up. Its channel is closed: Lettuce
   * reconnects, asking the sentinels for the master, and the retry (READONLY: not executed)
   * waits in the connection's queue for that. Not inside a MULTI or under a WATCH: the rest of the
   * app's transaction would then be sent to the new master outside it (a partial, non-atomic
   * commit); the transaction fails on the demoted server (EXECABORT) and the next READONLY outside
   * it moves the connection.
   */
  static void attemptFailed(LettuceCall call, Failure f) {
    if (call.session == null || !call.session.sentinelManaged || !"READONLY".equals(f.statusCode())) {
      return;
    }
    if (call.session.inMulti || !call.session.portable()) {
      return;
    }
    Object ch = call.lastChannel;
    if (ch instanceof Channel && ((Channel) ch).isActive()) {
      ((Channel) ch).close();
    }
  }

  /**
   * A standalone connection from a Sentinel RedisURI (re)connected to {@code now}, having been on
   * {@code before}: its master changed, a failover record.
   */
  static void reconnected(Object connection, ServerState before, ServerState now) {
    if (before == null || now == null || before == now || !(connection instanceof StateHolder)) {
      return;
    }
    Object s = ((StateHolder) connection).__rraState();
    if (s instanceof LettuceSession && ((LettuceSession) s).sentinelManaged) {
      MasterSwitches.switched(Telemetry.lettuce().resilience(), before, now);
    }
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
    boolean internal = INTERNAL_CONNECTS.get()[0] > 0;
    boolean sentinel = SENTINEL_CONNECTS.get()[0] > 0;
    if (internal || sentinel) {
      LettuceSession s = LettuceOperations.session(connection);
      if (s != null) {
        s.clientInternal |= internal;
        s.sentinelManaged |= sentinel && !internal;
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
