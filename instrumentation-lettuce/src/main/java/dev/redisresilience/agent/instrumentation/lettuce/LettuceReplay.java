package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.engine.RetryCoordinator;
import dev.redisresilience.agent.policy.RetryPolicy;
import io.lettuce.core.protocol.CommandWrapper;
import io.lettuce.core.protocol.RedisCommand;
import io.lettuce.core.protocol.TransactionalCommand;
import java.util.Collection;
import java.util.Iterator;

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
      if (call.retryConnection != null && !isCurrentAttempt(call, cmd)) {
        it.remove(); // an attempt the agent gave up and retried already: not sent again
        continue;
      }
      if (rc == null) {
        rc = LettuceRetries.coordinator();
      }
      Failure lost = Failure.connection(Failure.Phase.MAYBE_SENT, null);
      rc.attemptEnded(call, call.lastServer, lost);
      RetryPolicy.Refusal refusal = replayRefusal(rc, call, cmd, lost);
      if (refusal == null) {
        // back in the offline queue until Lettuce re-sends it: a timeout there is "not written"
        call.attemptsAtDispatch = call.op.attempts();
        continue;
      }
      it.remove();
      String name = call.op.operationName();
      cmd.completeExceptionally(
          refusal == RetryPolicy.Refusal.SESSION_STATE_LOST
              ? LettuceErrors.notReplayedSessionLost(name)
              : LettuceErrors.notReplayed(name));
    }
  }

  /** Null when Lettuce may re-send {@code cmd}, otherwise why not. */
  private static RetryPolicy.Refusal replayRefusal(
      RetryCoordinator rc, LettuceCall call, RedisCommand<?, ?, ?> cmd, Failure lost) {
    // queued inside a MULTI: the new connection has no transaction, re-sent it would run alone
    boolean inTransaction = CommandWrapper.unwrap(cmd, TransactionalCommand.class) != null;
    // dispatched while the connection held a WATCH or tracking: the new connection has neither
    return rc.gate(call, call.lastServer, lost, !inTransaction && call.portable);
  }

  private static boolean isCurrentAttempt(LettuceCall call, RedisCommand<?, ?, ?> cmd) {
    RedisCommand<?, ?, ?> current = call.current;
    return current != null && CommandWrapper.unwrap(current) == CommandWrapper.unwrap(cmd);
  }
}
