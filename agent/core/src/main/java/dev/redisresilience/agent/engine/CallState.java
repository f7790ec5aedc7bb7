package dev.redisresilience.agent.engine;

import dev.redisresilience.agent.core.ArgView;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.Operation;

/**
 * One logical operation's retry bookkeeping, whatever the client: its span and duration, the
 * command, and what the retry decisions so far need. Each client's call object extends it.
 * Confined to the operation (one thread at a time); public for client helpers in other loaders.
 */
public class CallState {
  // not final: a thread-confined caller (a sync Jedis call) reuses one call object, see restart
  public Operation op;
  public CommandInfo command; // null for batches
  public ArgView args; // null for batches
  public long startNanos = System.nanoTime();
  public long lastBackoffNanos;
  /** The server of the latest attempt or connect, for its retry budget (null: none yet). */
  public ServerState lastServer;
  /** The latest failed attempt, to classify a client's wrapper exception. */
  public Failure lastFailure;

  /**
   * Starts this call object over for a new operation, as if newly made: for a caller that reuses
   * one call object per thread instead of allocating one per operation. Nothing of the previous
   * operation survives.
   */
  protected void restart(Operation op, CommandInfo command, ArgView args) {
    this.op = op;
    this.command = command;
    this.args = args;
    this.startNanos = System.nanoTime();
    this.lastBackoffNanos = 0;
    this.lastServer = null;
    this.lastFailure = null;
  }

  public CallState(Operation op, CommandInfo command, ArgView args) {
    this.op = op;
    this.command = command;
    this.args = args;
  }

  /**
   * For a call object that is its own argument view (it implements {@link ArgView}): one object
   * per operation instead of two.
   */
  protected CallState(Operation op, CommandInfo command) {
    this.op = op;
    this.command = command;
    this.args = this instanceof ArgView ? (ArgView) this : null;
  }
}
