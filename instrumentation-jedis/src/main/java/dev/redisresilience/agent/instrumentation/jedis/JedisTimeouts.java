package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.policy.Policies;
import redis.clients.jedis.Connection;

/**
 * Applies the timeout policy to Jedis: the connect timeout of new sockets, the command timeout of
 * a connection, and per attempt the read timeout of blocking and per-command-timed commands.
 */
public final class JedisTimeouts {
  /** Jedis' own default connect and socket timeout (DefaultJedisClientConfig). */
  static final int JEDIS_DEFAULT_TIMEOUT_MILLIS = 2000;

  private JedisTimeouts() {}

  /** DefaultJedisSocketFactory.createSocket enter: the connect timeout per policy. */
  public static int connectTimeout(int appMillis) {
    return Policies.get().timeouts().connectMillis(appMillis, JEDIS_DEFAULT_TIMEOUT_MILLIS);
  }

  /** A socket was just connected: its command (read) timeout per policy. */
  static void applyCommandTimeout(Connection conn) {
    int app = conn.getSoTimeout();
    int ours = Policies.get().timeouts().commandMillis(app, JEDIS_DEFAULT_TIMEOUT_MILLIS);
    if (ours != app) {
      conn.setSoTimeout(ours);
    }
  }

  /** The read timeout this attempt needs, or -1 when the connection's own one applies. */
  static void plan(JedisAttempt a) {
    JedisCall call = a.call;
    if (!call.batch) {
      a.readTimeoutMillis = Policies.get().timeouts().attemptReadMillis(call.command, call.args);
    }
  }

  /**
   * Attempt enter, second half: the advice hands over the connection's blocking timeout field and
   * gets back the value to put there for this attempt.
   */
  public static int attemptTimeout(JedisAttempt a, Object connection, boolean jedisBlocking, int infinite) {
    a.previousInfinite = infinite;
    if (a.readTimeoutMillis < 0) {
      return infinite;
    }
    if (!jedisBlocking && ((Connection) connection).isConnected()) {
      // Jedis only widens the timeout for commands it flags blocking (not WAIT, not per-command
      // timeouts): widen it here and roll it back after the attempt
      a.rollback = true;
    }
    return (int) Math.min(Integer.MAX_VALUE, a.readTimeoutMillis);
  }

  /** Applies the widened timeout to the socket, after the field holds it. */
  public static void applyAttemptTimeout(JedisAttempt a, Object connection) {
    if (a.rollback) {
      ((Connection) connection).setTimeoutInfinite();
    }
  }

  /** After the attempt: the socket's own timeout again. */
  static void rollback(JedisAttempt a, Object connection) {
    if (a.rollback) {
      try {
        ((Connection) connection).rollbackTimeout();
      } catch (RuntimeException ignored) {
        // broken connection: replaced before its next use
      }
    }
  }
}
