package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.core.ArgView;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.engine.CallState;
import dev.redisresilience.agent.telemetry.Operation;

/**
 * One logical Jedis call in progress on a thread: the shared retry bookkeeping plus how the agent
 * takes part in this call's retries. Bootstrap side (JDK and agent types only); members are
 * public because the injected helpers live in the client's class loader.
 */
public final class JedisCall extends CallState {
  /** The agent retries the attempt itself (legacy Jedis, pooled and single-connection clients). */
  public static final int OWN_RETRIES = 0;
  /**
   * Jedis runs its own retry loop (JedisCluster, retrying executors): the agent adds no retries
   * and only stops the retries that are unsafe or over budget.
   */
  public static final int GATEKEEPER = 1;
  /** Another retry mechanism the agent leaves alone (multi-database failover). */
  public static final int OBSERVE = 2;

  public int mode;
  public final boolean batch;
  /** The thread whose reusable call this is (null: a call of its own, garbage once ended). */
  public JedisFrame frame;
  /** True while the agent's retry loop runs an attempt: that attempt must not retry by itself. */
  public boolean retrying;
  /** Gatekeeper for a cluster executor: vetoes surface as JedisClusterOperationException. */
  public boolean cluster;
  /** The connection of the latest attempt: its session state decides where a retry may run. */
  public JedisConnState lastConnection;

  public JedisCall(Operation op, CommandInfo command, ArgView args, int mode, boolean batch) {
    super(op, command, args);
    this.mode = mode;
    this.batch = batch;
  }

  /** Starts this (reusable, never a batch) call over for a new operation. */
  public void restart(Operation op, CommandInfo command, ArgView args, int mode) {
    super.restart(op, command, args);
    this.mode = mode;
    this.retrying = false;
    this.cluster = false;
    this.lastConnection = null;
  }
}
