package dev.redisresilience.agent;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The agent's own log: one line per message on stderr, prefixed so it is easy to grep. The agent
 * deliberately does not log through the application's logging framework: it may not be initialised
 * yet (premain runs first), and an agent must not change how the application's logs are configured.
 */
public final class AgentLog {
  public enum Level {
    DEBUG,
    INFO,
    WARN,
    OFF
  }

  private static final String PREFIX = "[redis-resilience-agent] ";
  private static volatile Level threshold = Level.INFO;
  private static volatile PrintStream out = System.err;

  private AgentLog() {}

  public static void setLevel(Level level) {
    threshold = level;
  }

  /** Tests capture the agent's lines here. */
  public static void setOutput(PrintStream stream) {
    out = stream;
  }

  public static boolean isDebug() {
    return threshold == Level.DEBUG;
  }

  public static void debug(String message) {
    log(Level.DEBUG, message);
  }

  public static void info(String message) {
    log(Level.INFO, message);
  }

  public static void warn(String message) {
    log(Level.WARN, message);
  }

  private static void log(Level level, String message) {
    if (level.ordinal() < threshold.ordinal()) {
      return;
    }
    String line =
        level == Level.INFO
            ? PREFIX + message
            : PREFIX + level.name().toLowerCase(Locale.ROOT) + ": " + message;
    out.println(line);
  }
}
