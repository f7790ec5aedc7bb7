package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.engine.CallState;
import dev.redisresilience.agent.telemetry.AgentFaults;
import dev.redisresilience.agent.telemetry.Operation;
import io.lettuce.core.protocol.RedisCommand;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.BiConsumer;

/**
 * One logical Lettuce command: the shared retry bookkeeping plus the command the application
 * holds (its future, Mono or sync call completes when this command does) and the database it
 * was dispatched on. Ends the operation when the command completes, on whichever thread that
 * happens. A helper: injected next to Lettuce.
 */
public final class LettuceCall extends CallState implements BiConsumer<Object, Throwable> {
  final RedisCommand<?, ?, ?> redisCommand;
  final long database;
  /** The connection's own command timeout when it was dispatched (RedisURI, setTimeout). */
  final long appTimeoutMillis;

  LettuceCall(
      Operation op, CommandInfo info, RedisCommand<?, ?, ?> command, long database, long appTimeoutMillis) {
    super(op, info, new LettuceArgs(command.getArgs()));
    this.redisCommand = command;
    this.database = database;
    this.appTimeoutMillis = appTimeoutMillis;
  }

  private static final AtomicIntegerFieldUpdater<LettuceCall> COMPLETED =
      AtomicIntegerFieldUpdater.newUpdater(LettuceCall.class, "completed");
  private volatile int completed;

  /**
   * True for the first of the command's completions: a sync wait that times out cancels the
   * command while the expiry timer may complete it on another thread.
   */
  boolean completesNow() {
    return COMPLETED.compareAndSet(this, 0, 1);
  }

  @Override
  public void accept(Object value, Throwable thrown) {
    try {
      LettuceOperations.completed(this, value, thrown);
    } catch (Throwable t) {
      AgentFaults.record(t);
    }
  }
}
