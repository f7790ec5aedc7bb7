package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.engine.MasterSwitches;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.telemetry.Telemetry;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisSentinelPool;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.providers.SentineledConnectionProvider;

/**
 * Sentinel-managed Jedis (JedisSentinelPool; SentineledConnectionProvider under JedisSentineled
 * and RedisSentinelClient). Their sentinel connections (SENTINEL get-master-addr-by-name, the
 * +switch-master subscription) are client-internal: a connection that sends a SENTINEL command
 * talks to a sentinel and is never reported. Their switch to a new master is a failover record.
 */
public final class JedisSentinels {
  /** The client name of Jedis' server states (as JedisConnState's). */
  private static final String CLIENT = "jedis";

  private JedisSentinels() {}

  /**
   * True when {@code args} is a SENTINEL command: the connection is a sentinel's and stays
   * client-internal from now on (its later commands never get here).
   */
  static boolean sentinelTraffic(JedisConnState s, CommandArguments args) {
    if (args.getCommand() != Protocol.Command.SENTINEL) {
      return false;
    }
    synchronized (s) {
      if (s.suppressed == 0) {
        s.suppressed++; // for the connection's lifetime: never decremented
      }
    }
    return true;
  }

  /** initMaster(HostAndPort) enter on a JedisSentinelPool or SentineledConnectionProvider. */
  public static void masterInit(Object owner, Object master) {
    HostAndPort current =
        owner instanceof JedisSentinelPool
            ? ((JedisSentinelPool) owner).getCurrentHostMaster()
            : owner instanceof SentineledConnectionProvider
                ? ((SentineledConnectionProvider) owner).getCurrentMaster()
                : null;
    if (current == null || !(master instanceof HostAndPort) || current.equals(master)) {
      return; // the first master, or the same one again (a listener's re-subscription)
    }
    HostAndPort next = (HostAndPort) master;
    MasterSwitches.switched(
        Telemetry.jedis().resilience(),
        ServerRegistry.server(CLIENT, current.getHost(), current.getPort()),
        ServerRegistry.server(CLIENT, next.getHost(), next.getPort()));
  }
}
