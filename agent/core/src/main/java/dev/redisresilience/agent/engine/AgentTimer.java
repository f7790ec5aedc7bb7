package dev.redisresilience.agent.engine;

import dev.redisresilience.agent.telemetry.AgentFaults;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The agent's one timer thread for delayed work that must not sleep on a client's thread: the
 * backoff before a Lettuce retry (an event-loop thread must never wait). Daemon, started on first
 * use; the tasks are short (they hand a command to the client) and never block. A task that
 * throws is recorded as an agent fault and does not stop the timer.
 */
public final class AgentTimer {
  private AgentTimer() {}

  private static final class Holder {
    static final ScheduledThreadPoolExecutor EXECUTOR = create();

    private static ScheduledThreadPoolExecutor create() {
      ScheduledThreadPoolExecutor e =
          new ScheduledThreadPoolExecutor(
              1,
              r -> {
                Thread t = new Thread(r, "redis-resilience-timer");
                t.setDaemon(true);
                return t;
              });
      e.setRemoveOnCancelPolicy(true);
      e.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
      return e;
    }
  }

  /** Runs {@code task} once after {@code delayNanos} (at once when 0 or less). */
  public static void schedule(Runnable task, long delayNanos) {
    Runnable guarded =
        () -> {
          try {
            task.run();
          } catch (Throwable t) {
            AgentFaults.record(t);
          }
        };
    Holder.EXECUTOR.schedule(guarded, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
  }
}
