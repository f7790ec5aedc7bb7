package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.bootstrap.IntFieldReader;
import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.CommandTable;
import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.telemetry.ClientTelemetry;
import dev.redisresilience.agent.telemetry.Operation;
import dev.redisresilience.agent.telemetry.Telemetry;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.StatefulRedisConnectionImpl;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandWrapper;
import io.lettuce.core.protocol.CompleteableCommand;
import io.lettuce.core.protocol.RedisCommand;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.CancellationException;

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
    LettuceCall call =
        new LettuceCall(op, info, cmd, database(connection, info, cmd), appTimeoutMillis(connection));
    ((StateHolder) raw).__rraSetState(call);
    @SuppressWarnings("unchecked")
    CompleteableCommand<Object> c = (CompleteableCommand<Object>) cmd;
    c.onComplete(call);
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
   * engine (error and timeout metrics, retry budget) and ends the operation.
   */
  static void completed(LettuceCall call, Object value, Throwable thrown) {
    if (!call.completesNow()) {
      return;
    }
    Failure f = LettuceErrors.classify(call.redisCommand, value, thrown);
    if (!(thrown instanceof LettuceErrors.AgentConnectionException)) {
      // the agent's own failures were booked where it raised them
      LettuceRetries.coordinator().attemptEnded(call, call.lastServer, f);
    }
    call.op.end(f);
  }

  /** Command.cancel exit: a reactive cancel bypasses the wrapper's callbacks; end here. */
  public static void cancelled(Object rawCommand) {
    if (!(rawCommand instanceof StateHolder)) {
      return;
    }
    Object s = ((StateHolder) rawCommand).__rraState();
    if (s instanceof LettuceCall) {
      completed((LettuceCall) s, null, new CancellationException());
    }
  }

  /**
   * The database this command runs in. Tracked in dispatch order, which is the order Redis runs
   * a connection's commands in: a SELECT changes the database of the commands dispatched after
   * it, even before its reply arrived (Lettuce updates its own state only then).
   */
  private static long database(Object connection, CommandInfo info, RedisCommand<?, ?, ?> cmd) {
    if (!(connection instanceof StateHolder)) {
      return 0;
    }
    StateHolder h = (StateHolder) connection;
    Object s = h.__rraState();
    long[] db;
    if (s instanceof long[]) {
      db = (long[]) s;
    } else {
      db = new long[] {initialDatabase(connection)};
      h.__rraSetState(db);
    }
    long current = db[0];
    if ("SELECT".equals(info.name())) {
      CommandArgs<?, ?> args = cmd.getArgs();
      Long index = args == null ? null : args.getFirstInteger();
      if (index != null) {
        db[0] = index; // the SELECT itself still runs in the previous database
      }
    }
    return current;
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
