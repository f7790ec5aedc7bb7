package dev.redisresilience.agent.instrumentation.jedis;

/**
 * What a call returns or throws after the agent's part in it (retries, vetoes): the exit advice
 * replaces the method's result with it. Bootstrap side: public for the injected helpers.
 */
public final class JedisOutcome {
  public Object value;
  public Throwable thrown;

  public JedisOutcome(Object value, Throwable thrown) {
    this.value = value;
    this.thrown = thrown;
  }
}
