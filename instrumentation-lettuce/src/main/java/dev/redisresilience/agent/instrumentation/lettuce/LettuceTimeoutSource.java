package dev.redisresilience.agent.instrumentation.lettuce;

import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.protocol.RedisCommand;
import java.util.concurrent.TimeUnit;

/**
 * The per-command timeout Lettuce asks for when it writes a command (expiry writer) and when a
 * sync call waits: the agent's policy, given what the app configured. Injected next to Lettuce.
 */
final class LettuceTimeoutSource extends TimeoutOptions.TimeoutSource {
  /** The app's own timeout options; null or disabled: the connection's timeout applies. */
  private final TimeoutOptions app;

  LettuceTimeoutSource(TimeoutOptions app) {
    this.app = app;
  }

  @Override
  public long getTimeout(RedisCommand<?, ?, ?> command) {
    LettuceCall call = command == null ? null : LettuceOperations.callOf(command);
    return LettuceTimeouts.commandTimeoutMillis(call, appMillis(command, call));
  }

  /** What the app alone would have given this command (0: no timeout). */
  private long appMillis(RedisCommand<?, ?, ?> command, LettuceCall call) {
    long connection = call != null ? call.appTimeoutMillis : LettuceTimeouts.LETTUCE_DEFAULT_COMMAND_MILLIS;
    if (app == null || !app.isTimeoutCommands() || app.isApplyConnectionTimeout() || app.getSource() == null) {
      return connection;
    }
    TimeoutOptions.TimeoutSource s = app.getSource();
    long t = s.getTimeout(command);
    return t < 0 ? connection : TimeUnit.MILLISECONDS.convert(t, s.getTimeUnit());
  }

  @Override
  public TimeUnit getTimeUnit() {
    return TimeUnit.MILLISECONDS;
  }
}
