package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.maintenance.ConnectionMaintenance;
import dev.redisresilience.agent.maintenance.MaintenancePolicy;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.internal.ExceptionFactory;
import io.lettuce.core.protocol.CommandExpiryWriter;
import io.lettuce.core.protocol.CompleteableCommand;
import io.lettuce.core.protocol.RedisCommand;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Relaxed command timeouts on Lettuce 6.x during a maintenance window. Lettuce's expiry writer
 * arms one timer per command at write time; for a connection that opted in to maintenance
 * notifications the agent arms its own instead, with the same timeout, which when it fires asks the
 * connection's window: while relaxed the command gets the relaxed timeout (counted from its
 * write, so commands written before the notification are covered too), otherwise it times out as
 * Lettuce's would. Never shorter than Lettuce's; a command without timeout (0) keeps none, so
 * blocking commands keep their own. The sync API's wait is only the upper bound then (the relaxed
 * timeout); the timer decides. Connections that did not opt in (RESP2, a server that refused)
 * keep Lettuce's timer as it is. Injected next to Lettuce.
 */
public final class LettuceRelaxedExpiry {
  private LettuceRelaxedExpiry() {}

  /**
   * CommandExpiryWriter.potentiallyExpire enter: true when the agent armed the command's timer
   * (Lettuce's is skipped), with the timeout Lettuce computes (in {@code unit}).
   */
  public static boolean expire(
      Object writer,
      RedisCommand<?, ?, ?> cmd,
      ScheduledExecutorService executors,
      boolean applyConnectionTimeout,
      long connectionTimeout,
      TimeoutOptions.TimeoutSource source,
      TimeUnit unit) {
    if (LettuceMaintenance.NATIVE
        || cmd == null
        || executors == null
        || unit == null
        || (!applyConnectionTimeout && source == null)
        || !(writer instanceof CommandExpiryWriter)
        || !MaintenancePolicy.get().enabled()) {
      return false;
    }
    LettuceEndpoints.State st = endpoint(((CommandExpiryWriter) writer).getDelegate());
    LettuceMaintenance m = st == null ? null : LettuceMaintenance.peek(st.channel);
    if (m == null || !m.optedIn) {
      return false;
    }
    long timeout = applyConnectionTimeout ? connectionTimeout : source.getTimeout(cmd);
    if (timeout <= 0) {
      return true; // none, as Lettuce would arm none
    }
    LettuceCall call = LettuceOperations.callOf(cmd);
    if (call != null) {
      call.relaxableTimeout = true;
    }
    new Timer(cmd, st, executors, unit.toNanos(timeout)).start();
    return true;
  }

  /** The sync API's wait for a command under the agent's timer: up to the relaxed timeout. */
  public static long syncWaitNanos(Object future, long timeoutNanos) {
    if (LettuceMaintenance.NATIVE || timeoutNanos <= 0 || !(future instanceof RedisCommand)) {
      return timeoutNanos;
    }
    LettuceCall call = LettuceOperations.callOf((RedisCommand<?, ?, ?>) future);
    if (call == null || !call.relaxableTimeout) {
      return timeoutNanos;
    }
    return MaintenancePolicy.get().relaxedNanos(timeoutNanos);
  }

  private static LettuceEndpoints.State endpoint(Object delegate) {
    if (!(delegate instanceof StateHolder)) {
      return null; // not a DefaultEndpoint (cluster writer ...): Lettuce's timer
    }
    Object s = ((StateHolder) delegate).__rraState();
    return s instanceof LettuceEndpoints.State ? (LettuceEndpoints.State) s : null;
  }

  /** One command's timer. */
  static final class Timer implements Runnable {
    private final RedisCommand<?, ?, ?> cmd;
    private final LettuceEndpoints.State endpoint;
    private final ScheduledExecutorService executors;
    private final long baseNanos;
    private final long startNanos = System.nanoTime();
    private volatile ScheduledFuture<?> pending;

    Timer(RedisCommand<?, ?, ?> cmd, LettuceEndpoints.State endpoint, ScheduledExecutorService executors, long base) {
      this.cmd = cmd;
      this.endpoint = endpoint;
      this.executors = executors;
      this.baseNanos = base;
    }

    void start() {
      arm(baseNanos);
      if (cmd instanceof CompleteableCommand) {
        ((CompleteableCommand<?>) cmd)
            .onComplete(
                (Object value, Throwable thrown) -> {
                  ScheduledFuture<?> f = pending;
                  if (f != null && !f.isDone()) {
                    f.cancel(false);
                  }
                });
      }
    }

    private void arm(long delayNanos) {
      try {
        pending = executors.schedule(this, delayNanos, TimeUnit.NANOSECONDS);
      } catch (RuntimeException shutDown) {
        // the client shuts down: its close fails the command
      }
    }

    @Override
    public void run() {
      if (cmd.isDone()) {
        return;
      }
      long now = System.nanoTime();
      long allowed = allowedNanos(now);
      long elapsed = now - startNanos;
      if (elapsed < allowed) {
        arm(allowed - elapsed); // relaxed meanwhile: the rest of the relaxed timeout
        return;
      }
      cmd.completeExceptionally(ExceptionFactory.createTimeoutException(Duration.ofNanos(allowed)));
    }

    /** The command's timeout now: the relaxed one while its connection's window is open. */
    private long allowedNanos(long now) {
      LettuceMaintenance m = LettuceMaintenance.peek(endpoint.channel);
      if (m == null) {
        return baseNanos;
      }
      LettuceHandoffs.Handoff h = m.handoff;
      if (h != null && !h.reported && now - h.untilNanos < 0) {
        // waiting for the hand-off's new connection (in the disconnected buffer): relaxed until
        // it is up, however long the old channel's window said
        return MaintenancePolicy.get().relaxedNanos(baseNanos);
      }
      ConnectionMaintenance w = m.window;
      return w == null ? baseNanos : w.timeoutNanos(baseNanos, MaintenancePolicy.get(), now);
    }
  }
}
