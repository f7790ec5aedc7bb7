package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.telemetry.Operation;
import io.lettuce.core.protocol.RedisCommand;
import java.util.function.BiConsumer;

/**
 * Ends the operation of one Lettuce command when it completes (reply, error, timeout, cancel), on
 * whichever thread that happens. Also remembers the database the command was dispatched on, for
 * binding the endpoint when the command is written. A helper: injected next to Lettuce.
 */
public final class LettuceCompletion implements BiConsumer<Object, Throwable> {
  final Operation op;
  final RedisCommand<?, ?, ?> command;
  final long database;

  LettuceCompletion(Operation op, RedisCommand<?, ?, ?> command, long database) {
    this.op = op;
    this.command = command;
    this.database = database;
  }

  @Override
  public void accept(Object value, Throwable thrown) {
    try {
      op.end(LettuceHelper.classify(command, thrown));
    } catch (Throwable t) {
      dev.redisresilience.agent.telemetry.AgentFaults.record(t);
    }
  }
}
