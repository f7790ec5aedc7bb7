package dev.redisresilience.apps.jedis;

import java.util.List;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * An ordinary Jedis application with a fixed workload, so a test knows exactly which operations
 * it performs: legacy Jedis, JedisPool, RedisClient, a pipeline, a transaction and one failing
 * command. Prints RESULT lines the test checks. Args: redis-port.
 */
public final class PlainJedisApp {
  public static void main(String[] args) {
    int port = Integer.parseInt(args[0]);

    // legacy Jedis on one connection: 7 operations (db 0, then db 2)
    try (Jedis jedis = new Jedis("127.0.0.1", port)) {
      jedis.set("plain:legacy", "v1"); // SET
      System.out.println("RESULT legacy-get=" + jedis.get("plain:legacy")); // GET
      System.out.println("RESULT legacy-incr=" + jedis.incr("plain:counter")); // INCR
      System.out.println("RESULT legacy-ping=" + jedis.ping()); // PING
      jedis.select(2); // SELECT
      jedis.set("plain:db2", "x"); // SET (db 2)
      jedis.select(0); // SELECT

      // a pipeline of 10 commands: one PIPELINE operation
      Pipeline p = jedis.pipelined();
      for (int i = 0; i < 10; i++) {
        p.set("plain:pipe:" + i, "v" + i);
      }
      p.sync();

      // a transaction of 3 commands: one MULTI operation
      Transaction tx = jedis.multi();
      tx.incr("plain:tx");
      tx.incr("plain:tx");
      tx.incr("plain:tx");
      List<Object> results = tx.exec();
      System.out.println("RESULT tx=" + results);

      // a server error: HSET then GET on the hash -> WRONGTYPE
      jedis.hset("plain:hash", "f", "v"); // HSET
      try {
        jedis.get("plain:hash"); // GET -> WRONGTYPE
        System.out.println("RESULT wrongtype=missing");
      } catch (JedisDataException e) {
        System.out.println("RESULT wrongtype=" + e.getMessage().split(" ")[0]);
      }
    }

    // JedisPool: 2 operations (+ pool-internal traffic that must not be reported)
    try (JedisPool pool = new JedisPool("127.0.0.1", port)) {
      try (Jedis j = pool.getResource()) {
        j.set("plain:pool", "p"); // SET
      }
      try (Jedis j = pool.getResource()) {
        System.out.println("RESULT pool-get=" + j.get("plain:pool")); // GET
      }
    }

    // RedisClient (Jedis 7.2+ UnifiedJedis): 3 operations
    try (RedisClient client = RedisClient.create("127.0.0.1", port)) {
      client.set("plain:client", "c"); // SET
      System.out.println("RESULT client-get=" + client.get("plain:client")); // GET
      System.out.println("RESULT client-del=" + client.del("plain:client")); // DEL
    }
    System.out.println("RESULT done");
  }
}
