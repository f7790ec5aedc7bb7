package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.bootstrap.IntFieldReader;
import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.CommandTable;
import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.telemetry.ClientTelemetry;
import dev.redisresilience.agent.telemetry.Endpoint;
import dev.redisresilience.agent.telemetry.Operation;
import dev.redisresilience.agent.telemetry.Telemetry;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.StatefulRedisConnectionImpl;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandWrapper;
import io.lettuce.core.protocol.CompleteableCommand;
import io.lettuce.core.protocol.RedisCommand;
import io.netty.channel.ChannelHandlerContext;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.concurrent.CancellationException;

/**
 * Everything the Lettuce advice does. Touches Lettuce and Netty types, so it is injected into the
 * class loader that loaded Lettuce.
 */
public final class LettuceHelper {
  private LettuceHelper() {}

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
    Operation op = t.start(info, text);
    LettuceCompletion completion = new LettuceCompletion(op, cmd, database(connection, info, cmd));
    ((StateHolder) raw).__rraSetState(completion);
    @SuppressWarnings("unchecked")
    CompleteableCommand<Object> c = (CompleteableCommand<Object>) cmd;
    c.onComplete(completion);
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

  /** CommandHandler.write enter: the command (or batch) goes to this channel's server now. */
  public static void write(Object handler, Object ctx, Object msg) {
    if (msg instanceof RedisCommand) {
      bind(handler, ctx, (RedisCommand<?, ?, ?>) msg);
    } else if (msg instanceof Collection) {
      for (Object o : (Collection<?>) msg) {
        if (o instanceof RedisCommand) {
          bind(handler, ctx, (RedisCommand<?, ?, ?>) o);
        }
      }
    }
  }

  private static void bind(Object handler, Object ctx, RedisCommand<?, ?, ?> cmd) {
    RedisCommand<?, ?, ?> raw = CommandWrapper.unwrap(cmd);
    if (!(raw instanceof StateHolder)) {
      return;
    }
    Object s = ((StateHolder) raw).__rraState();
    if (!(s instanceof LettuceCompletion)) {
      return;
    }
    LettuceCompletion completion = (LettuceCompletion) s;
    Endpoint e = endpoint(handler, ((ChannelHandlerContext) ctx).channel().remoteAddress(), completion.database);
    if (e != null) {
      completion.op.bind(e);
    }
  }

  private static Endpoint endpoint(Object handler, SocketAddress address, long db) {
    if (!(address instanceof InetSocketAddress) || !(handler instanceof StateHolder)) {
      return null;
    }
    StateHolder h = (StateHolder) handler;
    LettuceHandlerState st = (LettuceHandlerState) h.__rraState();
    if (st == null) {
      st = new LettuceHandlerState();
      h.__rraSetState(st);
    }
    if (st.endpoint != null && st.database == db && address.equals(st.address)) {
      return st.endpoint;
    }
    InetSocketAddress a = (InetSocketAddress) address;
    String ip = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    Endpoint e = Telemetry.lettuce().endpoint(a.getHostString(), a.getPort(), ip, a.getPort(), db);
    st.address = address;
    st.database = db;
    st.endpoint = e;
    return e;
  }

  /** Command.cancel exit: a reactive cancel bypasses the wrapper's callbacks; end here. */
  public static void cancelled(Object rawCommand) {
    if (!(rawCommand instanceof StateHolder)) {
      return;
    }
    Object s = ((StateHolder) rawCommand).__rraState();
    if (s instanceof LettuceCompletion) {
      LettuceCompletion c = (LettuceCompletion) s;
      c.op.end(classify(c.command, new CancellationException()));
    }
  }

  /** Maps a Lettuce completion to the agent's error taxonomy; null for success. */
  static Failure classify(RedisCommand<?, ?, ?> command, Throwable t) {
    if (t == null) {
      // wrappers (reactive, cluster) see -ERR replies only in the output
      CommandOutput<?, ?, ?> out = command.getOutput();
      if (out != null && out.hasError()) {
        String code = Failure.statusCodeOf(out.getError());
        return code != null
            ? Failure.server(code, new RedisCommandExecutionException(out.getError()))
            : Failure.other(new RedisCommandExecutionException(out.getError()));
      }
      return null;
    }
    if (t instanceof RedisCommandExecutionException) {
      String code = Failure.statusCodeOf(t.getMessage());
      return code != null ? Failure.server(code, t) : Failure.other(t);
    }
    if (t instanceof RedisCommandTimeoutException) {
      return Failure.timeout(Failure.Phase.MAYBE_SENT, t);
    }
    if (t instanceof CancellationException) {
      // the sync API cancels a command whose wait timed out, on the waiting thread
      return LettuceContext.inAwait()
          ? Failure.timeout(Failure.Phase.MAYBE_SENT, t)
          : Failure.cancelled(t);
    }
    if (t instanceof RedisConnectionException) {
      return Failure.connection(Failure.Phase.NOT_SENT, t);
    }
    if (t instanceof RedisException) {
      String m = String.valueOf(t.getMessage());
      if (m.startsWith("Currently not connected") || m.startsWith("Request queue size exceeded")) {
        return Failure.connection(Failure.Phase.NOT_SENT, t);
      }
      if (m.startsWith("Connection closed") || m.startsWith("Connection disconnected")) {
        return Failure.connection(Failure.Phase.MAYBE_SENT, t);
      }
    }
    if (t instanceof java.io.IOException) {
      return Failure.connection(Failure.Phase.MAYBE_SENT, t);
    }
    return Failure.other(t);
  }
}
