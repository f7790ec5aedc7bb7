package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.engine.RetryCoordinator;
import dev.redisresilience.agent.policy.Policies;
import dev.redisresilience.agent.policy.RetryPolicy;
import dev.redisresilience.agent.telemetry.AgentFaults;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisException;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.CommandWrapper;
import io.lettuce.core.protocol.RedisCommand;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The agent's own retries of Lettuce commands, with the shared engine. Every attempt of a call
 * ends in {@code AsyncCommand.complete()} (a reply) or {@code completeExceptionally} (timeout,
 * reset, close); when the engine says retry, that completion is held back from the application,
 * and after the backoff — scheduled on the client's own event executor group (where Lettuce
 * completes timed-out commands too), never a wait on an event loop — a fresh command with the
 * same arguments is dispatched on the same connection (a cluster connection routes it by slot
 * again). Its outcome, when final, completes the application's command: its future, or the sync
 * call waiting on it, completes once, and one span covers every attempt. Late replies of attempts
 * that were given up (a timed-out command whose reply comes after all) are dropped.
 *
 * <p>Not retried by the agent: reactive commands (their subscriber holds a different command;
 * Lettuce's replay is still made safe), commands inside MULTI, connections that flush manually,
 * outputs that need more than the codec (streaming), clients whose options the agent did not
 * get to set (the sync wait then is the only per-attempt timeout), and commands Lettuce rejected
 * itself because the connection is down and {@code offline-queue=reject} or a full queue says so.
 * Injected next to Lettuce.
 */
public final class LettuceAttempts {
  private LettuceAttempts() {}

  /** At dispatch: whether the agent may retry this command on this connection. */
  static boolean mayRetry(Object connection, LettuceSession session, RedisCommand<?, ?, ?> cmd) {
    if (!(cmd.getClass() == AsyncCommand.class || isSingleValueSubscription(cmd))
        || session.manualFlush
        || session.inMulti
        || !(connection instanceof StatefulConnection)
        || !(connection instanceof RedisChannelHandler)
        || Policies.get().retries().maxAttempts() <= 1) {
      return false;
    }
    ClientOptions options = ((StatefulConnection<?, ?>) connection).getOptions();
    TimeoutOptions timeouts = options == null ? null : options.getTimeoutOptions();
    return timeouts != null && timeouts.getSource() instanceof LettuceTimeoutSource;
  }

  private static final String SUBSCRIPTION_COMMAND = "io.lettuce.core.RedisPublisher$SubscriptionCommand";

  /**
   * A reactive command whose value is emitted when it completes (not a streaming output, whose
   * elements reach the subscriber as they are read and could not be taken back).
   */
  private static boolean isSingleValueSubscription(RedisCommand<?, ?, ?> cmd) {
    return cmd.getClass().getName().equals(SUBSCRIPTION_COMMAND)
        && !(cmd.getOutput() instanceof io.lettuce.core.output.StreamingOutput);
  }

  /** The call whose attempt {@code cmd} is, when the agent retries that call; otherwise null. */
  private static LettuceCall retriedCall(RedisCommand<?, ?, ?> cmd) {
    LettuceCall call = LettuceOperations.callOf(cmd);
    return call == null || call.retryConnection == null || call.finishing ? null : call;
  }

  /**
   * CommandWrapper.complete() / completeExceptionally enter: only the reactive command the
   * application subscribed to is the agent's business here (its attempts are AsyncCommands);
   * every other wrapper (cluster, tracing) completes as always.
   */
  public static boolean onWrapperReply(RedisCommand<?, ?, ?> cmd) {
    LettuceCall call = retriedCall(cmd);
    return call != null && call.redisCommand == cmd && onReply(call, cmd);
  }

  public static boolean onWrapperFailure(RedisCommand<?, ?, ?> cmd, Throwable thrown) {
    LettuceCall call = retriedCall(cmd);
    return call != null && call.redisCommand == cmd && onFailure(call, cmd, thrown);
  }

  /** AsyncCommand.complete() enter: true to skip it (the reply is not the call's outcome). */
  public static boolean onReply(AsyncCommand<?, ?, ?> cmd) {
    LettuceCall call = retriedCall(cmd);
    return call != null && onReply(call, cmd);
  }

  /** AsyncCommand.completeExceptionally enter: true to skip it (a retry follows). */
  public static boolean onFailure(AsyncCommand<?, ?, ?> cmd, Throwable thrown) {
    LettuceCall call = retriedCall(cmd);
    return call != null && onFailure(call, cmd, thrown);
  }

  private static boolean onReply(LettuceCall call, RedisCommand<?, ?, ?> cmd) {
    if (cmd != call.current) {
      return true; // an attempt given up earlier: its late reply is nobody's
    }
    CommandOutput<?, ?, ?> out = cmd.getOutput();
    if (out == null || !out.hasError()) {
      return false; // a retry's value reaches the application through transfer()
    }
    return failed(call, cmd, LettuceErrors.classify(cmd, null));
  }

  private static boolean onFailure(LettuceCall call, RedisCommand<?, ?, ?> cmd, Throwable thrown) {
    if (cmd != call.current) {
      return true;
    }
    if (thrown instanceof LettuceErrors.AgentConnectionException || isClientRejection(thrown)) {
      // the agent's own refusals were booked where they were raised; a rejection of a command
      // while disconnected (offline-queue=reject, a full queue) is the configured behaviour:
      // fail at once
      if (thrown instanceof LettuceErrors.AgentConnectionException) {
        call.finalBooked = true;
      }
      return false;
    }
    return failed(call, cmd, LettuceErrors.classify(cmd, thrown));
  }

  /** Lettuce's own or the agent's offline-queue rejection: the configured "fail at once". */
  private static boolean isClientRejection(Throwable t) {
    if (t instanceof LettuceOfflineQueue.OfflineQueueFullException) {
      return true;
    }
    if (!(t instanceof RedisException)) {
      return false;
    }
    String m = String.valueOf(t.getMessage());
    return m.startsWith("Currently not connected") || m.startsWith("Request queue size exceeded");
  }

  /** The attempt {@code cmd} of {@code call} failed: books it, and retries when the engine says. */
  private static boolean failed(LettuceCall call, RedisCommand<?, ?, ?> cmd, Failure f) {
    if (f == null || call.redisCommand.isDone()) {
      return false; // (the app's command was cancelled or its sync wait gave up: nothing to retry)
    }
    RetryCoordinator rc = LettuceRetries.coordinator();
    boolean queued = call.op.attempts() == call.attemptsAtDispatch;
    RedisChannelHandler<?, ?> conn = (RedisChannelHandler<?, ?>) call.retryConnection;
    boolean keepQueued = false;
    if (queued) {
      // never written: it waited in Lettuce's offline queue for a reconnect. An attempt all the
      // same; one that timed out there was certainly not sent, and can stay queued when what is
      // queued is the command itself (a wrapper — tracing, command listeners, cluster — is
      // marked done by the timeout while the command inside is not: written later, its reply
      // would go nowhere)
      call.op.attempt();
      if (f.kind() == Failure.Kind.TIMEOUT && queuesTheCommandItself(conn)) {
        f = Failure.timeout(Failure.Phase.NOT_SENT, f.cause());
        keepQueued = true;
      }
    }
    rc.attemptEnded(call, call.lastServer, f);
    LettuceSentinels.attemptFailed(call, f);
    Failure cause = call.retryCause;
    if (cause != null) {
      rc.retried(call, cause, false);
    }
    long backoff = RetryCoordinator.NO_RETRY;
    if (!conn.isClosed() && f.kind() != Failure.Kind.CANCELLED && LettuceFreshCommands.renewable(cmd)) {
      boolean portable = call.portable && !inMulti(conn);
      backoff = rc.decide(call, f, portable);
    }
    if (backoff < 0) {
      call.finalBooked = true;
      return false; // this outcome is final; a retry's reaches the application through transfer()
    }
    if (keepQueued) {
      // still in the offline queue, where Lettuce will write it once it has reconnected: a new
      // command next to it could run twice. It stays queued, sent at most once, and times out
      // again after another attempt's time
      long attemptNanos = System.nanoTime() - call.attemptStartNanos;
      call.attemptsAtDispatch = call.op.attempts();
      call.attemptStartNanos = System.nanoTime() + backoff;
      call.retryCause = f;
      Throwable timeout = f.cause();
      schedule(conn, () -> expireAgain(call, cmd, timeout), backoff + attemptNanos);
      return true;
    }
    call.current = null;
    call.retryCause = f;
    schedule(conn, () -> retry(call), backoff);
    return true;
  }

  /**
   * Runs {@code task} after {@code delayNanos} on the connection's event executor group (Lettuce's
   * computation threads, not its I/O event loops): the app's callbacks that a retry's outcome
   * runs then run where Lettuce runs them for its own timeouts.
   */
  private static void schedule(RedisChannelHandler<?, ?> conn, Runnable task, long delayNanos) {
    Runnable guarded =
        () -> {
          try {
            task.run();
          } catch (Throwable t) {
            AgentFaults.record(t);
          }
        };
    conn.getResources().eventExecutorGroup().schedule(guarded, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
  }

  /** After the backoff: the next attempt. */
  private static void retry(LettuceCall call) {
    if (call.redisCommand.isDone()) {
      return; // cancelled, or the sync call's wait gave up meanwhile
    }
    AsyncCommand<Object, Object, Object> next = LettuceFreshCommands.next(call, call.redisCommand);
    if (next == null) {
      finish(call, new RedisException("retry of " + call.op.operationName() + " could not be built"));
      return;
    }
    next.whenComplete((v, t) -> transfer(call, next, v, t));
    call.attemptsAtDispatch = call.op.attempts();
    call.attemptStartNanos = System.nanoTime();
    call.current = next;
    if (inMulti((RedisChannelHandler<?, ?>) call.retryConnection)) {
      // the app opened a transaction on this connection during the backoff: a command sent now
      // would be queued into it
      next.completeExceptionally(LettuceErrors.notRetriedInTransaction(call.op.operationName()));
      return;
    }
    try {
      @SuppressWarnings("unchecked")
      StatefulConnection<Object, Object> conn = (StatefulConnection<Object, Object>) call.retryConnection;
      conn.dispatch(next);
    } catch (Throwable t) {
      next.completeExceptionally(t); // a closed connection: the hook books it as final
    }
  }

  /**
   * A command that timed out in the offline queue and was kept there: if it is still not done,
   * this attempt's time is up too (written meanwhile, it is an ordinary timed-out attempt now).
   */
  private static void expireAgain(LettuceCall call, RedisCommand<?, ?, ?> cmd, Throwable timeout) {
    if (!cmd.isDone() && call.current == cmd) {
      cmd.completeExceptionally(
          timeout != null ? timeout : new io.lettuce.core.RedisCommandTimeoutException("Command timed out"));
    }
  }

  /** True when a command sent on {@code conn} now would be queued into an open transaction. */
  private static boolean inMulti(RedisChannelHandler<?, ?> conn) {
    LettuceSession s = LettuceOperations.session(conn);
    return (s != null && s.inMulti)
        || (conn instanceof StatefulRedisConnection && ((StatefulRedisConnection<?, ?>) conn).isMulti());
  }

  /**
   * True when Lettuce's offline queue of {@code conn} holds the dispatched command itself: a
   * standalone connection without tracing and without command listeners.
   */
  private static boolean queuesTheCommandItself(RedisChannelHandler<?, ?> conn) {
    return conn instanceof io.lettuce.core.StatefulRedisConnectionImpl
        && !conn.getResources().tracing().isEnabled()
        && !(conn.getChannelWriter() instanceof io.lettuce.core.CommandListenerWriter);
  }

  /** An attempt after the first ended and its outcome is final: the application's command gets it. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void transfer(LettuceCall call, AsyncCommand<?, ?, ?> attempt, Object value, Throwable t) {
    try {
      RedisCommand app = call.redisCommand;
      if (app.isDone()) {
        return; // cancelled, or a sync wait gave up
      }
      if (t != null) {
        finish(call, t);
      } else if (app instanceof CompletableFuture) {
        ((CompletableFuture<Object>) app).complete(value);
        if (app instanceof AsyncCommand) {
          // CompletableFuture.complete(T) passes no advice: the operation ends here
          LettuceOperations.asyncDone((AsyncCommand<?, ?, ?>) app);
        }
      } else {
        // reactive: the subscription emits what its own command's output holds
        CommandWrapper.unwrap(app).setOutput(attempt.getOutput());
        call.finishing = true;
        app.complete();
      }
    } catch (Throwable e) {
      AgentFaults.record(e);
    }
  }

  private static void finish(LettuceCall call, Throwable t) {
    call.finishing = true; // the app's command's own completion hook lets this one through
    call.redisCommand.completeExceptionally(t);
  }

  /**
   * The sync API waits for a command for one command timeout, then cancels it: with agent
   * retries the wait covers every attempt and backoff (each attempt is cut by Lettuce's expiry
   * at its own timeout), bounded by {@code retry.max-duration} plus one attempt. A timeout of 0
   * (wait forever) stays 0.
   */
  public static long syncWaitNanos(Object future, long timeoutNanos) {
    if (timeoutNanos <= 0 || !(future instanceof RedisCommand)) {
      return timeoutNanos;
    }
    LettuceCall call = LettuceOperations.callOf((RedisCommand<?, ?, ?>) future);
    if (call == null || call.retryConnection == null) {
      return timeoutNanos;
    }
    RetryPolicy p = Policies.get().retries();
    int attempts = p.maxAttempts();
    if (attempts <= 1) {
      return timeoutNanos;
    }
    long total = satMul(timeoutNanos, attempts);
    total = satAdd(total, satMul(p.backoff().maxNanos(), attempts - 1));
    if (p.maxDurationNanos() > 0) {
      total = Math.min(total, satAdd(p.maxDurationNanos(), timeoutNanos));
    }
    return Math.max(timeoutNanos, total);
  }

  private static long satMul(long a, long b) {
    long r = a * b;
    return (a != 0 && (r / a != b || r < 0)) ? Long.MAX_VALUE : r;
  }

  private static long satAdd(long a, long b) {
    long r = a + b;
    return r < 0 ? Long.MAX_VALUE : r;
  }
}
