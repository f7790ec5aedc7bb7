package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.core.Failure;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.TransactionResult;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.protocol.RedisCommand;
import java.util.concurrent.CancellationException;

/**
 * Lettuce completions in the agent's error taxonomy, and the exceptions the agent raises itself.
 * Injected next to Lettuce (it touches Lettuce types); error-reply prefixes are classified by the
 * core ({@link Failure#statusCodeOf}).
 */
final class LettuceErrors {
  private LettuceErrors() {}

  /**
   * Maps a Lettuce completion to the agent's error taxonomy; null for success. An EXEC that
   * answered null (a WATCHed key changed) is a watch abort, as redis-py's WatchError.
   */
  static Failure classify(RedisCommand<?, ?, ?> command, Object value, Throwable t) {
    if (t == null && value instanceof TransactionResult && ((TransactionResult) value).wasDiscarded()) {
      return Failure.watchAborted();
    }
    return classify(command, t);
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
    if (t instanceof AgentConnectionException) {
      return ((AgentConnectionException) t).failure;
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

  /** A connect that timed out (Netty's connect timeout, possibly wrapped by Lettuce). */
  static boolean isTimeout(Throwable t) {
    for (int i = 0; t != null && i < 8; i++, t = t.getCause()) {
      if (t instanceof io.netty.channel.ConnectTimeoutException
          || t instanceof java.net.SocketTimeoutException) {
        return true;
      }
    }
    return false;
  }

  /**
   * The connection broke while {@code command} waited for its reply and the agent stopped Lettuce
   * from re-sending it after the reconnect.
   */
  static AgentConnectionException notReplayed(String command) {
    String message =
        command
            + " not re-sent: the connection was lost after it was sent, so it may have run on the"
            + " server, and it is not safe to run twice (redis-resilience-agent)";
    AgentConnectionException e = new AgentConnectionException(message, null);
    e.failure = Failure.outcomeUnknown(e);
    return e;
  }

  /**
   * The connection broke while {@code command} waited for its reply, and it was dispatched while
   * the connection held a WATCH (or CLIENT TRACKING) that the new connection does not have.
   */
  static AgentConnectionException notReplayedSessionLost(String command) {
    AgentConnectionException e =
        new AgentConnectionException(
            command
                + " not re-sent: the connection was lost, and the new connection would not hold its"
                + " WATCH / CLIENT TRACKING (redis-resilience-agent)",
            null);
    e.failure = Failure.sessionStateLost(e);
    return e;
  }

  /**
   * A retry of {@code command} was due, but the app opened a MULTI on the connection meanwhile:
   * sent now, the command would be queued into the app's transaction.
   */
  static AgentConnectionException notRetriedInTransaction(String command) {
    AgentConnectionException e =
        new AgentConnectionException(
            command
                + " not retried: a transaction was opened on the connection before the retry was"
                + " due (redis-resilience-agent)",
            null);
    e.failure = Failure.sessionStateLost(e);
    return e;
  }

  /** A connection failure raised by the agent, carrying its classification. */
  static final class AgentConnectionException extends RedisConnectionException {
    private static final long serialVersionUID = 1L;
    transient Failure failure;

    AgentConnectionException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
