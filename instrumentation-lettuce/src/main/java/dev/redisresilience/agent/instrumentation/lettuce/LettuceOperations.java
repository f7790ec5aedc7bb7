package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.bootstrap.IntFieldReader;
import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.CommandTable;
import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.core.SessionEffect;
import dev.redisresilience.agent.engine.RetryCoordinator;
import dev.redisresilience.agent.telemetry.ClientTelemetry;
import dev.redisresilience.agent.telemetry.Operation;
import dev.redisresilience.agent.telemetry.Telemetry;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.StatefulRedisConnectionImpl;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandWrapper;
import io.lettuce.core.protocol.CompleteableCommand;
import io.lettuce.core.protocol.RedisCommand;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The operations of Lettuce as the agent sees them: one per user command, started when the
 * command is dispatched (every API ends there) and ended when it completes. Injected next to
 * Lettuce.
 */
public final class LettuceOperations {
  private LettuceOperations() {}

  /** RedisChannelHandler.dispatch enter: one operation per user command. */
  public static void dispatch(Object connection, RedisCommand<?, ?, ?> cmd) {
    if (cmd == null || !(cmd instanceof CompleteableCommand) || LettuceContext.inActivation()) {
      return;
    }
    if (LettuceSentinels.sentinelTraffic(connection)) {
      return;
    }
    Class<?> type = cmd.getClass();
    if (type.getName().endsWith(".TimedAsyncCommand")) {
      return; // cluster and master/replica topology refresh: the client's own traffic
    }
    RedisCommand<?, ?, ?> raw = CommandWrapper.unwrap(cmd);
    if (!(raw instanceof StateHolder) || ((StateHolder) raw).__rraState() != null) {
      return; // master/replica dispatches the same command twice: count it once
    }
    ClientTelemetry t = Telemetry.lettuce();
    CommandInfo info = CommandTable.get().lookup(cmd.getType().getBytes());
    String text = null;
    if (t.queryTextEnabled()) {
      CommandArgs<?, ?> args = cmd.getArgs();
      int count = args == null ? 0 : args.count();
      byte[] firstKey = null;
      if (count > 0 && info.isKey(0, count)) {
        ByteBuffer key = args.getFirstEncodedKey();
        if (key != null) {
          firstKey = new byte[key.remaining()];
          key.duplicate().get(firstKey);
        }
      }
      text = t.queryTextFirstKey(info, firstKey, count);
    }
    Operation op = t.start(info, text, LettuceOperations.class); // the app's context at dispatch
    LettuceSession session = session(connection);
    long database = session == null ? 0 : session.database;
    LettuceCall call = new LettuceCall(op, info, cmd, database, appTimeoutMillis(connection), session);
    if (session != null) {
      if (connection instanceof StatefulRedisConnectionImpl
          && !connection.getClass().getName().endsWith("MasterReplicaConnectionImpl")) {
        call.lastServer = session.lastServer; // one server: the budget a queued command is charged to
      }
      sessionEffect(session, call);
      if (LettuceAttempts.mayRetry(connection, session, cmd)) {
        call.retryConnection = connection;
      }
    }
    ((StateHolder) raw).__rraSetState(call);
    if (type == AsyncCommand.class) {
      // the sync and async API: AsyncCommand's completion advice ends the operation (no
      // listener per command); one completed before it got here ends now
      if (cmd.isDone()) {
        asyncDone((AsyncCommand<?, ?, ?>) cmd);
      }
      return;
    }
    @SuppressWarnings("unchecked")
    CompleteableCommand<Object> c = (CompleteableCommand<Object>) cmd;
    c.onComplete(call);
  }

  /**
   * AsyncCommand.completeResult / doCompleteExceptionally enter (the winner of complete() and
   * completeExceptionally(), by the command's part count, is about to complete the future): when
   * {@code cmd} is the command an operation was dispatched with, the operation ends with that
   * outcome — a reply (an error reply is read from the output), or {@code thrown} — before the
   * future completes, so the application finds its span and duration recorded when it gets the
   * result. A cancellation ends it in {@link #cancelled}, where Lettuce's cancel begins.
   */
  public static void completing(AsyncCommand<?, ?, ?> cmd, Throwable thrown) {
    LettuceCall call = dispatchedCall(cmd);
    if (call == null) {
      return;
    }
    if (cmd.isDone()) {
      asyncDone(cmd); // completed otherwise already: that outcome stands
      return;
    }
    Object value = null;
    if (thrown == null) {
      CommandOutput<?, ?, ?> out = cmd.getOutput();
      value = out == null || out.hasError() ? null : out.get();
    }
    call.accept(value, thrown);
  }

  /**
   * The operation of {@code cmd} done (read from its future): at dispatch of a command completed
   * already, and after the agent completed the application's command with a retry's value
   * (CompletableFuture.complete(T) passes no advice).
   */
  static void asyncDone(AsyncCommand<?, ?, ?> cmd) {
    if (!cmd.isDone()) {
      return;
    }
    LettuceCall call = dispatchedCall(cmd);
    if (call == null) {
      return;
    }
    Object value = null;
    Throwable thrown = null;
    if (cmd.isCompletedExceptionally()) {
      thrown = exceptionOf(cmd);
    } else {
      value = cmd.getNow(null);
    }
    call.accept(value, thrown);
  }

  /**
   * The call {@code cmd} was dispatched with; null when it has none, or when it is an agent retry's
   * attempt of it.
   */
  private static LettuceCall dispatchedCall(AsyncCommand<?, ?, ?> cmd) {
    LettuceCall call = callOf(cmd);
    return call != null && call.redisCommand == cmd ? call : null;
  }

  /** The exception a future completed with (failure path only: getNow allocates its wrapper). */
  private static Throwable exceptionOf(CompletableFuture<?> f) {
    try {
      f.getNow(null);
      return new CancellationException(); // not reached: it completed exceptionally
    } catch (CompletionException e) {
      return e.getCause() != null ? e.getCause() : e;
    } catch (CancellationException e) {
      return e;
    }
  }

  public static void dispatchAll(Object connection, Collection<?> commands) {
    if (commands == null) {
      return;
    }
    for (Object c : commands) {
      if (c instanceof RedisCommand) {
        dispatch(connection, (RedisCommand<?, ?, ?>) c);
      }
    }
  }

  private static long appTimeoutMillis(Object connection) {
    if (connection instanceof RedisChannelHandler) {
      Duration d = ((RedisChannelHandler<?, ?>) connection).getTimeout();
      return d == null ? 0 : d.toMillis();
    }
    return LettuceTimeouts.LETTUCE_DEFAULT_COMMAND_MILLIS;
  }

  /** The call a command (or any wrapper of it) belongs to, or null. */
  static LettuceCall callOf(RedisCommand<?, ?, ?> cmd) {
    RedisCommand<?, ?, ?> raw = CommandWrapper.unwrap(cmd);
    if (!(raw instanceof StateHolder)) {
      return null;
    }
    Object s = ((StateHolder) raw).__rraState();
    return s instanceof LettuceCall ? (LettuceCall) s : null;
  }

  /**
   * The command completed (reply, error, timeout, cancel): books the attempt with the shared
   * engine (error and timeout metrics, retry budget) and ends the operation. After agent retries
   * the outcome is the latest attempt's; a failed one was booked where it failed.
   */
  static void completed(LettuceCall call, Object value, Throwable thrown) {
    if (!call.completesNow()) {
      return;
    }
    RedisCommand<?, ?, ?> attempt = call.current;
    Failure f = LettuceErrors.classify(attempt != null ? attempt : call.redisCommand, value, thrown);
    RetryCoordinator rc = LettuceRetries.coordinator();
    if (!call.finalBooked && !(thrown instanceof LettuceErrors.AgentConnectionException)) {
      // the agent's own failures were booked where it raised them
      rc.attemptEnded(call, call.lastServer, f);
    }
    Failure cause = call.retryCause;
    if (f == null && cause != null) {
      rc.retried(call, cause, true);
    }
    call.op.end(f);
  }

  /** Command.cancel exit: a reactive cancel bypasses the wrapper's callbacks; end here. */
  public static void cancelled(Object rawCommand) {
    if (!(rawCommand instanceof StateHolder)) {
      return;
    }
    Object s = ((StateHolder) rawCommand).__rraState();
    if (!(s instanceof LettuceCall)) {
      return;
    }
    LettuceCall call = (LettuceCall) s;
    if (CommandWrapper.unwrap(call.redisCommand) != rawCommand) {
      // an agent retry's command (Lettuce cancels what it buffered when the connection closes):
      // the application's command is cancelled with it
      call.redisCommand.cancel();
      return;
    }
    RedisCommand<?, ?, ?> attempt = call.current;
    if (attempt != null && CommandWrapper.unwrap(attempt) != rawCommand && !attempt.isDone()) {
      // the app cancelled (or its sync wait gave up) while an agent retry was queued or in
      // flight: that attempt is cancelled too, so that Lettuce never writes it later
      attempt.cancel();
    }
    completed(call, null, new CancellationException());
  }

  /** The session state of {@code connection} in dispatch order, created on its first command. */
  static LettuceSession session(Object connection) {
    if (!(connection instanceof StateHolder)) {
      return null;
    }
    StateHolder h = (StateHolder) connection;
    Object s = h.__rraState();
    if (s instanceof LettuceSession) {
      return (LettuceSession) s;
    }
    LettuceSession fresh = new LettuceSession(initialDatabase(connection));
    h.__rraSetState(fresh);
    return fresh;
  }

  /**
   * What the dispatched command does to its connection's session. A SELECT changes the database
   * of the commands dispatched after it, even before its reply arrived (Lettuce updates its own
   * state only then); the SELECT itself still runs in the previous database.
   */
  private static void sessionEffect(LettuceSession session, LettuceCall call) {
    SessionEffect effect = SessionEffect.of(call.command, call.args);
    if (effect == SessionEffect.NONE) {
      return;
    }
    if (effect == SessionEffect.SELECT) {
      CommandArgs<?, ?> args = call.redisCommand.getArgs();
      Long index = args == null ? null : args.getFirstInteger();
      if (index != null) {
        session.database = index;
      }
      return;
    }
    session.dispatched(effect);
  }

  /** RedisChannelHandler.setAutoFlushCommands enter. */
  public static void autoFlush(Object connection, boolean autoFlush) {
    LettuceSession s = session(connection);
    if (s != null) {
      s.manualFlush = !autoFlush;
    }
  }

  private static long initialDatabase(Object connection) {
    if (connection instanceof StatefulRedisConnectionImpl) {
      Object state = ((StatefulRedisConnectionImpl<?, ?>) connection).getConnectionState();
      if (state instanceof IntFieldReader) {
        return ((IntFieldReader) state).__rraReadInt();
      }
    }
    return 0; // cluster connections have database 0 only
  }
}
