package dev.redisresilience.apps.lettuce;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.reactive.RedisReactiveCommands;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * An ordinary Lettuce application with a fixed workload over the sync, async and reactive APIs,
 * one failing command, a transaction and a SELECT. Prints RESULT lines. Args: redis-port.
 */
public final class PlainLettuceApp {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    RedisClient client = RedisClient.create(RedisURI.create("127.0.0.1", port));
    try (StatefulRedisConnection<String, String> conn = client.connect()) {
      RedisCommands<String, String> sync = conn.sync();
      sync.set("lettuce:sync", "s"); // SET
      System.out.println("RESULT sync-get=" + sync.get("lettuce:sync")); // GET
      System.out.println("RESULT sync-incr=" + sync.incr("lettuce:counter")); // INCR

      RedisAsyncCommands<String, String> async = conn.async();
      async.set("lettuce:async", "a").get(5, TimeUnit.SECONDS); // SET
      System.out.println("RESULT async-get=" + async.get("lettuce:async").get(5, TimeUnit.SECONDS)); // GET

      RedisReactiveCommands<String, String> reactive = conn.reactive();
      reactive.set("lettuce:reactive", "r").block(Duration.ofSeconds(5)); // SET
      System.out.println("RESULT reactive-get=" + reactive.get("lettuce:reactive").block(Duration.ofSeconds(5))); // GET

      sync.hset("lettuce:hash", "f", "v"); // HSET
      try {
        sync.get("lettuce:hash"); // GET -> WRONGTYPE
        System.out.println("RESULT wrongtype=missing");
      } catch (RedisCommandExecutionException e) {
        System.out.println("RESULT wrongtype=" + e.getMessage().split(" ")[0]);
      }

      sync.multi(); // MULTI
      sync.incr("lettuce:tx"); // INCR (queued)
      sync.incr("lettuce:tx"); // INCR (queued)
      System.out.println("RESULT tx=" + sync.exec().size()); // EXEC

      sync.select(3); // SELECT
      sync.set("lettuce:db3", "x"); // SET (db 3)
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    System.out.println("RESULT done");
  }
}
