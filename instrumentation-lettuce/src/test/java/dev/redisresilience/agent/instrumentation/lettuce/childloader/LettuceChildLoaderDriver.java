package dev.redisresilience.agent.instrumentation.lettuce.childloader;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The application side of {@code LettuceChildLoaderTest}: loaded by the child-first loader, so its
 * Lettuce is that loader's copy and the agent's helpers must be injected there. Called through
 * JDK types only ({@link IntFunction}).
 */
public final class LettuceChildLoaderDriver implements IntFunction<List<String>> {
  /**
   * SET, GET, then an LPUSH on the string key (a WRONGTYPE error reply).
   *
   * @return the value read back, and the message of the error the LPUSH threw
   */
  @Override
  public List<String> apply(int port) {
    RedisClient client = RedisClient.create(RedisURI.create("127.0.0.1", port));
    try (StatefulRedisConnection<String, String> connection = client.connect()) {
      RedisCommands<String, String> sync = connection.sync();
      sync.set("child-loader", "v1");
      String value = sync.get("child-loader");
      String failure = "no exception";
      try {
        sync.lpush("child-loader", "x");
      } catch (RedisCommandExecutionException e) {
        failure = e.getMessage();
      }
      return Arrays.asList(value, failure);
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }
}
