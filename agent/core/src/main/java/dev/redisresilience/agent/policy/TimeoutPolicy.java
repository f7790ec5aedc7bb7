package dev.redisresilience.agent.policy;

import dev.redisresilience.agent.core.ArgView;
import dev.redisresilience.agent.core.CommandInfo;
import java.time.Duration;
import java.util.Map;

/** Connect and command timeouts, immutable, built once from configuration. */
public final class TimeoutPolicy {
  /** How the agent's timeouts combine with the ones the application configured. */
  public enum Mode {
    /** Always the agent's. */
    OVERRIDE,
    /** The lower of the two (an infinite app timeout counts as higher than anything). */
    CAP,
    /** The agent's only where the app kept the client library's default. */
    DEFAULT
  }

  private final int connectMillis;
  private final int commandMillis;
  private final long blockingMarginMillis;
  private final Mode mode;
  private final Map<String, Duration> perCommand;

  public TimeoutPolicy(
      Duration connect, Duration command, Duration blockingMargin, Mode mode, Map<String, Duration> perCommand) {
    this.connectMillis = (int) Math.min(Integer.MAX_VALUE, connect.toMillis());
    this.commandMillis = (int) Math.min(Integer.MAX_VALUE, command.toMillis());
    this.blockingMarginMillis = blockingMargin.toMillis();
    this.mode = mode;
    this.perCommand = perCommand;
  }

  public Mode mode() {
    return mode;
  }

  /**
   * The connect timeout to use, given the app's ({@code 0} = infinite) and the client library's
   * default.
   */
  public int connectMillis(int appMillis, int libraryDefaultMillis) {
    return combine(connectMillis, appMillis, libraryDefaultMillis);
  }

  /** The command (read) timeout to use; same rules as {@link #connectMillis}. */
  public int commandMillis(int appMillis, int libraryDefaultMillis) {
    return combine(commandMillis, appMillis, libraryDefaultMillis);
  }

  private int combine(int ours, int app, int libraryDefault) {
    if (ours <= 0) {
      return app; // the agent's value is "leave it"
    }
    switch (mode) {
      case OVERRIDE:
        return ours;
      case DEFAULT:
        return app == libraryDefault ? ours : app;
      case CAP:
      default:
        return app <= 0 ? ours : Math.min(app, ours);
    }
  }

  /**
   * The read timeout of one attempt, when it must differ from the connection's: blocking commands
   * get their own block time plus the margin ({@code 0} = unlimited, for a block time of 0), and
   * commands with a per-command timeout get that. {@code -1}: use the connection's timeout.
   */
  public long attemptReadMillis(CommandInfo cmd, ArgView args) {
    if (cmd.isBlockingCommand()) {
      long block = cmd.blockMillis(args);
      if (block < 0) {
        return 0; // blocks forever by request: never cut it
      }
      if (block > 0) {
        return block + Math.max(blockingMarginMillis, 1);
      }
    }
    if (!perCommand.isEmpty()) {
      Duration d = perCommand.get(cmd.name());
      if (d != null) {
        return d.toMillis();
      }
    }
    return -1;
  }
}
