package dev.redisresilience.agent.instrumentation.jedis.childloader;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.providers.ConnectionProvider;

/**
 * The application side of {@code JedisChildLoaderTest}: loaded by the child-first loader, so the
 * Jedis it uses is that loader's copy and the agent's helpers must be injected there. Called
 * through JDK types only ({@link BiFunction}).
 */
public final class JedisChildLoaderDriver implements BiFunction<Integer, Runnable, List<String>> {
  static final String HOST = "127.0.0.1";
  /** More connections than attempts fit in the deadline (350 ms / 100 ms read timeout). */
  static final int CONNECTIONS = 12;

  /**
   * A legacy SET and GET, then a GET on a retrying executor that runs out of its deadline while
   * the server is paused: Jedis throws its own "Retry deadline exceeded." with no cause, so the
   * operation's error.type comes from the last attempt's failure (JedisErrors.finalFailure).
   *
   * @return the value read back, and the message of the exception the GET threw
   */
  @Override
  public List<String> apply(Integer port, Runnable pauseServer) {
    String value;
    try (Jedis jedis = new Jedis(HOST, port)) {
      jedis.set("child-loader", "v1");
      value = jedis.get("child-loader");
    }
    JedisClientConfig config = DefaultJedisClientConfig.builder().socketTimeoutMillis(100).build();
    HostAndPort server = new HostAndPort(HOST, port);
    String failure = "no exception";
    try (PreConnected provider = new PreConnected(server, config);
        UnifiedJedis retrying = new UnifiedJedis(provider, 1000, Duration.ofMillis(350))) {
      retrying.get("child-loader");
      pauseServer.run();
      try {
        retrying.get("child-loader");
      } catch (JedisException e) {
        failure = e.getMessage();
      }
    }
    return Arrays.asList(value, failure);
  }

  /**
   * Connections made (handshake included) before the pause, one per attempt: every attempt of the
   * paused GET fails reading its reply, inside Connection.executeCommand, none while connecting.
   * (A pool would replace a broken connection at once, and that handshake's timeout escapes.)
   */
  static final class PreConnected implements ConnectionProvider {
    private final ArrayDeque<Connection> ready = new ArrayDeque<>();

    PreConnected(HostAndPort server, JedisClientConfig config) {
      for (int i = 0; i < CONNECTIONS; i++) {
        ready.add(new Connection(server, config));
      }
    }

    @Override
    public synchronized Connection getConnection() {
      Connection c = ready.poll();
      if (c == null) {
        throw new IllegalStateException("more attempts than " + CONNECTIONS);
      }
      return c;
    }

    @Override
    public Connection getConnection(CommandArguments args) {
      return getConnection();
    }

    @Override
    public synchronized void close() {
      for (Connection c : ready) {
        c.close();
      }
    }
  }
}
