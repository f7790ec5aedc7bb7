package dev.redisresilience.agent.telemetry;

import dev.redisresilience.agent.AgentLog;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The relocated OpenTelemetry SDK logs through java.util.logging under the agent's package. Those
 * records go to the agent log instead of the application's console handlers, at the agent's
 * level, so an unreachable collector shows up as agent warnings and the application's logging
 * configuration is never touched.
 */
public final class SdkLogBridge extends Handler {
  // JUL holds loggers weakly: keep ours alive so the configuration sticks
  private static Logger root;

  private SdkLogBridge() {}

  public static synchronized void install(String agentPackage, boolean debug) {
    root = Logger.getLogger(agentPackage);
    root.setUseParentHandlers(false);
    root.setLevel(debug ? Level.FINE : Level.WARNING);
    root.addHandler(new SdkLogBridge());
  }

  @Override
  public void publish(LogRecord r) {
    if (r == null || !isLoggable(r)) {
      return;
    }
    String msg = r.getMessage();
    if (r.getParameters() != null && msg != null) {
      try {
        msg = java.text.MessageFormat.format(msg, r.getParameters());
      } catch (IllegalArgumentException ignored) {
        // keep the raw message
      }
    }
    String line = "telemetry: " + msg + (r.getThrown() != null ? " (" + r.getThrown() + ")" : "");
    if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
      AgentLog.warn(line);
    } else {
      AgentLog.debug(line);
    }
  }

  @Override
  public void flush() {}

  @Override
  public void close() {}
}
