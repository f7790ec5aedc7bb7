package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.engine.MasterSwitches;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.telemetry.Telemetry;
import java.util.Map;
import java.util.WeakHashMap;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisSocketFactory;
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

  /** The master last reported per pool or provider (weakly held: a closed pool goes away). */
  private static final Map<Object, HostAndPort> REPORTED = new WeakHashMap<>();

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

  /**
   * An attempt on {@code conn} was refused for the server's role (READONLY, MASTERDOWN,
   * NOREPLICAS). When the connection's pool has moved to another master since its socket was
   * made, the socket still reaches the old master (a replica now) and would refuse every write:
   * it is marked broken, so a retry replaces it (a new socket reaches the pool's new master) and
   * a pool that gets it back destroys it. JedisSentinelPool's connections share one socket
   * factory that its switch re-points, and it hands out the connections borrowed across the
   * switch again (its check compares the factory's address with itself). The retry goes to the
   * new master, so its retry budget decides, not the old master's (spent by the switch).
   */
  static void refusedForRole(Connection conn, JedisConnState s, JedisCall call) {
    HostAndPort now = movedTo(s);
    if (now != null) {
      conn.setBroken();
      call.lastServer = ServerRegistry.server(CLIENT, now.getHost(), now.getPort());
    }
  }

  /**
   * The server the connection's socket factory names now, when it is another than the one the
   * connection's socket reached; else null.
   */
  static HostAndPort movedTo(JedisConnState s) {
    Object f = s.socketFactory;
    if (!(f instanceof DefaultJedisSocketFactory) || !s.hasServer()) {
      return null;
    }
    HostAndPort hp = ((DefaultJedisSocketFactory) f).getHostAndPort();
    return hp != null && !s.isServer(hp.getHost(), hp.getPort()) ? hp : null;
  }

  /** initMaster(HostAndPort) enter on a JedisSentinelPool or SentineledConnectionProvider. */
  public static void masterInit(Object owner, Object master) {
    HostAndPort current =
        owner instanceof JedisSentinelPool
            ? ((JedisSentinelPool) owner).getCurrentHostMaster()
            : owner instanceof SentineledConnectionProvider
                ? ((SentineledConnectionProvider) owner).getCurrentMaster()
                : null;
    if (!(master instanceof HostAndPort)) {
      return;
    }
    HostAndPort next = (HostAndPort) master;
    HostAndPort previous;
    synchronized (REPORTED) {
      // the listeners of all sentinels hear the same +switch-master, at once: one record
      previous = REPORTED.get(owner);
      if (previous == null) {
        previous = current;
      }
      REPORTED.put(owner, next);
    }
    if (previous == null || previous.equals(next)) {
      return; // the first master, or the same one again (a listener's re-subscription)
    }
    MasterSwitches.switched(
        Telemetry.jedis().resilience(),
        ServerRegistry.server(CLIENT, previous.getHost(), previous.getPort()),
        ServerRegistry.server(CLIENT, next.getHost(), next.getPort()));
  }
}
