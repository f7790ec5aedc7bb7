package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.core.Failure;
import redis.clients.jedis.exceptions.JedisConnectionException;

/**
 * A connection failure the agent raises itself (a replacement that failed, lost session state),
 * carrying its classification. A JedisConnectionException, so applications and Jedis' own pools
 * treat it like any broken connection.
 */
final class AgentConnectionException extends JedisConnectionException {
  private static final long serialVersionUID = 1L;
  transient Failure failure;

  AgentConnectionException(String message, Throwable cause, Failure failure) {
    super(message, cause);
    this.failure = failure;
  }
}
