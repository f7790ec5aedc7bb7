package dev.redisresilience.agent.instrumentation.jedis;

import redis.clients.jedis.UnifiedJedis;

/** The pooled UnifiedJedis of the Jedis version under test: RedisClient (7.2+) or JedisPooled (4-7). */
final class UnifiedClients {
  private UnifiedClients() {}

  static UnifiedJedis pooled(String host, int port) {
    try {
      try {
        return (UnifiedJedis)
            Class.forName("redis.clients.jedis.RedisClient")
                .getMethod("create", String.class, int.class)
                .invoke(null, host, port);
      } catch (ClassNotFoundException e) {
        return (UnifiedJedis)
            Class.forName("redis.clients.jedis.JedisPooled")
                .getConstructor(String.class, int.class)
                .newInstance(host, port);
      }
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }
}
