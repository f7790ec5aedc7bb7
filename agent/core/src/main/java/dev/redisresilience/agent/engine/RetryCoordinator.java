package dev.redisresilience.agent.engine;

import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.policy.Policies;
import dev.redisresilience.agent.policy.RetryPolicy;
import dev.redisresilience.agent.policy.RetryPolicy.Refusal;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.ResilienceTelemetry;
import dev.redisresilience.agent.telemetry.TelemetryNames;

/**
 * The retry engine both clients share. Given an attempt's outcome it books the attempt (error
 * metrics, retry budget) and decides: retry after a delay, or not and why. It never waits: the
 * Jedis side sleeps on the caller's thread, the Lettuce side schedules the next attempt on a
 * timer. Every decision and refusal is recorded once, here, with the same names for every client.
 */
public final class RetryCoordinator {
  /** Returned by {@link #decide} when the operation is not retried. */
  public static final long NO_RETRY = -1;

  private final ResilienceTelemetry telemetry;

  public RetryCoordinator(ResilienceTelemetry telemetry) {
    this.telemetry = telemetry;
  }

  /** True when this instance reports to {@code t} (callers cache one per telemetry installed). */
  public boolean reportsTo(ResilienceTelemetry t) {
    return telemetry == t;
  }

  /**
   * An attempt of {@code call} (null: a command outside any operation) ended on {@code server};
   * {@code f} null means it succeeded. Successes refill the server's budget; failures are counted
   * and, when they are evidence against the server, take from its budget.
   */
  public void attemptEnded(CallState call, ServerState server, Failure f) {
    if (f == null) {
      if (server != null) {
        server.budget().onSuccess();
      }
      return;
    }
    if (call != null) {
      call.lastFailure = f;
    }
    boolean blocking = call != null && call.command != null && call.command.isBlockingCommand();
    telemetry.attemptFailed(f, server, blocking);
    MasterSwitches.attemptFailed(server, f);
    if (server != null
        && chargesBudget(Policies.get().retries(), f)
        && !server.inMaintenance(System.nanoTime())) {
      server.budget().onRetryableFailure();
    }
  }

  /**
   * Failures that say something about the server take from its retry budget: a failed connect or
   * handshake, a timeout, a retryable error reply (LOADING ...). An established connection that
   * breaks (a load balancer's idle kill, one reset) says nothing about the server and costs
   * nothing; a server that is really gone shows as failed connects right after. A refusal for
   * the server's role (a failover) costs nothing either.
   */
  static boolean chargesBudget(RetryPolicy policy, Failure f) {
    if (!policy.isRetryable(f)) {
      return false;
    }
    if (MasterSwitches.refusedForRole(f)) {
      // READONLY, MASTERDOWN, NOREPLICAS: a failover under way, answered at once and never
      // executed; its retries wait for the client to find the new master (bounded by attempts
      // and retry.max-duration), they do not load a struggling server
      return false;
    }
    return f.kind() != Failure.Kind.CONNECTION || f.isConnectFailure();
  }

  /**
   * Decides whether the failed attempt is retried. {@code portable} is false when the attempt's
   * connection carried session state that a retry on a fresh connection would not have.
   *
   * @return the backoff in nanoseconds to wait before the next attempt, or {@link #NO_RETRY}
   */
  public long decide(CallState call, Failure f, boolean portable) {
    ServerState server = call.lastServer;
    if (!portable) {
      refused(call, server, f, Refusal.SESSION_STATE_LOST);
      return NO_RETRY;
    }
    RetryPolicy policy = Policies.get().retries();
    int attempts = call.op.attempts();
    long backoff = policy.backoff().nanos(attempts, call.lastBackoffNanos);
    Refusal refusal =
        policy.refusal(
            call.command, call.args, f, attempts, System.nanoTime() - call.startNanos, backoff,
            server == null ? null : server.budget());
    if (refusal != null) {
      refused(call, server, f, refusal);
      return NO_RETRY;
    }
    if (server != null) {
      server.budgetAllowsAgain();
    }
    call.lastBackoffNanos = backoff;
    call.op.retrying(attempts + 1, f, backoff);
    return backoff;
  }

  /** The retry {@link #decide} allowed has run: its outcome, for the retries metric. */
  public void retried(CallState call, Failure cause, boolean success) {
    telemetry.retry(
        call.command.name(), cause, success ? TelemetryNames.OUTCOME_SUCCESS : TelemetryNames.OUTCOME_FAILURE);
  }

  /**
   * For clients that run their own retry loop (JedisCluster, retrying executors): the agent adds
   * no retries and counts no attempts there, it only stops the retries that must not happen. A
   * re-run of a command whose outcome is unknown and that is not safe to re-run is refused
   * first, whatever {@code retry.on} says; then session state and the budget.
   *
   * @return null to let the client retry, or why it must not
   */
  public Refusal gate(CallState call, ServerState server, Failure f, boolean portable) {
    RetryPolicy policy = Policies.get().retries();
    Refusal refusal = null;
    if (f.outcomeUnknown() && !policy.safeToRerun(call.command, call.args, f)) {
      refusal = Refusal.NOT_IDEMPOTENT;
    } else if (!portable) {
      refusal = Refusal.SESSION_STATE_LOST;
    } else if (server != null && !server.budget().allowsRetry()) {
      refusal = Refusal.BUDGET_EXHAUSTED;
    }
    if (refusal != null) {
      refused(call, server, f, refusal);
      return refusal;
    }
    if (server != null) {
      server.budgetAllowsAgain();
    }
    call.op.retrying(call.op.attempts() + 1, f, 0);
    telemetry.retry(call.command.name(), f, TelemetryNames.OUTCOME_DELEGATED);
    return null;
  }

  private void refused(CallState call, ServerState server, Failure f, Refusal refusal) {
    if (refusal == Refusal.NOT_RETRYABLE || refusal == Refusal.NEVER) {
      return; // a WRONGTYPE is no retry decision worth a data point
    }
    telemetry.retry(call.command.name(), f, refusal.value);
    call.op.retryRefused(refusal.value, f);
    if (refusal == Refusal.BUDGET_EXHAUSTED) {
      telemetry.budgetExhausted(server);
    }
  }
}
