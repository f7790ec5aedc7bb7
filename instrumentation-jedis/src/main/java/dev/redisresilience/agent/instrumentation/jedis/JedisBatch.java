package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.telemetry.Operation;

/**
 * (Bootstrap side: members are public because the injected helper lives in another loader.)
 *
 * <p>A pipeline's or transaction's commands since the last sync/exec: one operation. */
public final class JedisBatch {
  public final JedisCall call;
  public int size;
  public JedisCall prev;

  public JedisBatch(Operation op) {
    this.call = new JedisCall(op, null, null, JedisCall.OBSERVE, true);
  }
}
