package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.telemetry.Operation;

/**
 * (Bootstrap side: members are public because the injected helper lives in another loader.)
 *
 * <p>A pipeline's or transaction's commands since the last sync/exec: one operation. */
public final class JedisBatch {
  public final Operation op;
  public int size;
  public Operation prev;

  public JedisBatch(Operation op) {
    this.op = op;
  }
}
