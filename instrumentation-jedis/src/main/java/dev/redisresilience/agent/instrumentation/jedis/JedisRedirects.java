package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.telemetry.Telemetry;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.exceptions.JedisAskDataException;
import redis.clients.jedis.exceptions.JedisRedirectionException;

/**
 * A cluster node answered MOVED or ASK: the same {@code redis.client.cluster.redirect} record as
 * for Lettuce, with the slot and the node the command goes to (JedisCluster follows it).
 */
final class JedisRedirects {
  /** The client name of Jedis' server states (as JedisConnState's). */
  private static final String CLIENT = "jedis";

  private JedisRedirects() {}

  /** An attempt failed with {@code thrown}; a redirect is recorded. */
  static void attemptFailed(Throwable thrown) {
    if (!(thrown instanceof JedisRedirectionException)) {
      return;
    }
    JedisRedirectionException e = (JedisRedirectionException) thrown;
    HostAndPort target = e.getTargetNode();
    if (target == null) {
      return;
    }
    Telemetry.jedis()
        .resilience()
        .connectionEvents()
        .redirect(
            ServerRegistry.server(CLIENT, target.getHost(), target.getPort()),
            e instanceof JedisAskDataException ? "ASK" : "MOVED",
            e.getSlot());
  }
}
