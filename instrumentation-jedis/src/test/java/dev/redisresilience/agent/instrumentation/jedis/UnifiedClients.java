package dev.redisresilience.agent.instrumentation.jedis;

import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.Connection;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.UnifiedJedis;

/** The pooled UnifiedJedis of the Jedis version under test: RedisClient (7.2+) or JedisPooled (4-7). */
final class UnifiedClients {
  private UnifiedClients() {}

  /** A pooled UnifiedJedis with this client config and pool config (RESP3 tests). */
  static UnifiedJedis pooled(HostAndPort hp, JedisClientConfig config, GenericObjectPoolConfig<Connection> pool) {
    try {
      try {
        Object b = Class.forName("redis.clients.jedis.RedisClient").getMethod("builder").invoke(null);
        Class<?> builder = Class.forName("redis.clients.jedis.builders.StandaloneClientBuilder");
        Class<?> abstractBuilder = Class.forName("redis.clients.jedis.builders.AbstractClientBuilder");
        builder.getMethod("hostAndPort", HostAndPort.class).invoke(b, hp);
        abstractBuilder.getMethod("clientConfig", JedisClientConfig.class).invoke(b, config);
        abstractBuilder.getMethod("poolConfig", GenericObjectPoolConfig.class).invoke(b, pool);
        return (UnifiedJedis) abstractBuilder.getMethod("build").invoke(b);
      } catch (ClassNotFoundException e) {
        return (UnifiedJedis)
            Class.forName("redis.clients.jedis.JedisPooled")
                .getConstructor(HostAndPort.class, JedisClientConfig.class, GenericObjectPoolConfig.class)
                .newInstance(hp, config, pool);
      }
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

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
