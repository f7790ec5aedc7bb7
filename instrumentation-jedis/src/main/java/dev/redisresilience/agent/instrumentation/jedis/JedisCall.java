package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.core.ArgView;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.telemetry.Operation;

/**
 * One logical Jedis call in progress on a thread: its operation (span, duration), and how the
 * agent takes part in its retries. Bootstrap side (JDK and agent types only); members are public
 * because the injected helper lives in the client's class loader.
 */
public final class JedisCall {
  /** The agent retries the attempt itself (legacy Jedis, pooled and single-connection clients). */
  public static final int OWN_RETRIES = 0;
  /**
   * Jedis runs its own retry loop (JedisCluster, retrying executors): the agent adds no retries
   * and only stops the retries that are unsafe or over budget.
   */
  public static final int GATEKEEPER = 1;
  /** Another retry mechanism the agent leaves alone (multi-database failover). */
  public static final int OBSERVE = 2;

  public final Operation op;
  public final CommandInfo command; // null for batches
  public final ArgView args; // null for batches
  public final int mode;
  public final boolean batch;
  public final long startNanos = System.nanoTime();
  /** True while the agent's retry loop runs an attempt: that attempt must not retry by itself. */
  public boolean retrying;
  /** Gatekeeper for a cluster executor: vetoes surface as JedisClusterOperationException. */
  public boolean cluster;
  public long lastBackoffNanos;
  /** The server of the latest attempt or connect, for its retry budget (null: none yet). */
  public dev.redisresilience.agent.policy.ServerState lastServer;
  /** The latest failed attempt, to classify an executor's wrapper ("retry deadline exceeded"). */
  public dev.redisresilience.agent.core.Failure lastFailure;

  public JedisCall(Operation op, CommandInfo command, ArgView args, int mode, boolean batch) {
    this.op = op;
    this.command = command;
    this.args = args;
    this.mode = mode;
    this.batch = batch;
  }
}
