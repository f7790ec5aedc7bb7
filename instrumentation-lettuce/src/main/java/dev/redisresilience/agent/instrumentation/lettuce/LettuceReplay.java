package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.engine.RetryCoordinator;
import dev.redisresilience.agent.policy.RetryPolicy;
import io.lettuce.core.protocol.CommandWrapper;
import io.lettuce.core.protocol.RedisCommand;
import io.lettuce.core.protocol.TransactionalCommand;
import dev.redisresilience.agent.policy.Policies;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;

/**
 * Lettuce's replay after a reconnect, made safe. When a connection breaks, Lettuce takes the
 * commands it sent and has no reply for (the channel's stack) and re-sends them on the next
 * connection: at least once, so an INCR whose reply was lost runs twice. Here each of them goes
 * through the shared engine as a retry the client makes itself ({@link RetryCoordinator#gate}):
 * what is safe to run again is left to Lettuce, the rest is taken out of the replay and fails at
 * once with {@code error.type=outcome_unknown}. Injected next to Lettuce.
 */
public final class LettuceReplay {
  private LettuceReplay() {}

  /**
   * CommandHandler.drainQueue exit: {@code drained} are the commands sent on the broken channel
   * and not answered (commands whose write failed never reached the server and are not here:
   * Lettuce took them off the stack when the write failed).
   */
  public static void drained(Collection<?> drained) {
    if (drained == null || drained.isEmpty()) {
      return;
    }
    RetryCoordinator rc = null;
    for (Iterator<?> it = drained.iterator(); it.hasNext(); ) {
      Object o = it.next();
      if (!(o instanceof RedisCommand)) {
        continue;
      }
      RedisCommand<?, ?, ?> cmd = (RedisCommand<?, ?, ?>) o;
      LettuceCall call = LettuceOperations.callOf(cmd);
      if (call == null || cmd.isDone()) {
        continue; // the client's own commands (handshake, topology refresh): Lettuce's business
      }
      if (rc == null) {
        rc = LettuceRetries.coordinator();
      }
      Failure lost = Failure.connection(Failure.Phase.MAYBE_SENT, null);
      rc.attemptEnded(call, call.lastServer, lost);
      RetryPolicy.Refusal refusal = refusal(rc, call, cmd, lost);
      if (refusal == null) {
        continue; // Lettuce re-sends it
      }
      it.remove();
      cmd.completeExceptionally(LettuceErrors.notReplayed(call.op.operationName(), refusal));
    }
  }

  /**
   * CommandHandler.exceptionCaught enter. A connection reset (an IOException on read) makes
   * Lettuce fail the oldest unanswered command with it, and replay the others once the channel
   * is gone: the one reset fails a GET that any reconnect would have answered. When the policy
   * allows re-running that command, it is taken off the stack here (a placeholder takes its
   * place for Lettuce to fail) and put back first on exit, so it goes through the same replay
   * as the others ({@link #drained}), where the engine decides.
   *
   * @return the command taken off, or null
   */
  public static Object spareOldest(Queue<Object> stack, Throwable cause) {
    if (!(cause instanceof IOException) || stack == null) {
      return null;
    }
    Object head = stack.peek();
    if (!(head instanceof RedisCommand)) {
      return null;
    }
    RedisCommand<?, ?, ?> cmd = (RedisCommand<?, ?, ?>) head;
    LettuceCall call = LettuceOperations.callOf(cmd);
    if (call == null
        || cmd.isDone()
        || CommandWrapper.unwrap(cmd, TransactionalCommand.class) != null
        || !Policies.get()
            .retries()
            .safeToRerun(call.command, call.args, Failure.connection(Failure.Phase.MAYBE_SENT, cause))) {
      return null; // Lettuce fails it, as it would without the agent
    }
    stack.poll();
    List<Object> rest = new ArrayList<>(stack);
    stack.clear();
    stack.add(new Command<>(CommandType.PING, null)); // what Lettuce fails instead
    stack.addAll(rest);
    return head;
  }

  /** CommandHandler.exceptionCaught exit: the spared command is the oldest unanswered again. */
  public static void restoreOldest(Queue<Object> stack, Object spared) {
    if (spared == null || stack == null) {
      return;
    }
    List<Object> rest = new ArrayList<>(stack);
    stack.clear();
    stack.add(spared);
    stack.addAll(rest);
  }

  private static RetryPolicy.Refusal refusal(
      RetryCoordinator rc, LettuceCall call, RedisCommand<?, ?, ?> cmd, Failure lost) {
    // queued inside a MULTI: the new connection has no transaction, re-sent it would run alone
    boolean inTransaction = CommandWrapper.unwrap(cmd, TransactionalCommand.class) != null;
    return rc.gate(call, call.lastServer, lost, !inTransaction);
  }
}
