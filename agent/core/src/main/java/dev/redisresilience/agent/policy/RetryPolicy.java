package dev.redisresilience.agent.policy;

import dev.redisresilience.agent.core.ArgView;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.CommandInfo.Safety;
import dev.redisresilience.agent.core.Failure;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * Whether a failed attempt is retried, and after how long. Immutable, built once.
 *
 * <p>The retry-safety rule: a failure proven to have happened before the server could execute the
 * command (connect failed, the write failed, or the server refused it: LOADING, TRYAGAIN,
 * CLUSTERDOWN, MASTERDOWN, READONLY, BUSY, NOREPLICAS) may be retried for any command. A failure
 * after the request may have been executed (read timeout, reset while waiting for the reply) is
 * retried only for read-only and idempotent commands, unless {@code retry.unsafe-writes} is on or
 * the command is listed in {@code retry.idempotent-commands}. Transactions, pub/sub and
 * connection-state commands are never retried.
 */
public final class RetryPolicy {
  /** Why an attempt was not retried; the values of outcome / reason attributes. */
  public enum Refusal {
    NOT_RETRYABLE("not_retryable"),
    NEVER("never"),
    NOT_IDEMPOTENT("not_idempotent"),
    ATTEMPTS_EXHAUSTED("attempts_exhausted"),
    DEADLINE("deadline_exceeded"),
    BUDGET_EXHAUSTED(Failure.TYPE_BUDGET_EXHAUSTED);

    public final String value;

    Refusal(String value) {
      this.value = value;
    }
  }

  /** Server errors that mean "not executed, try again": safe to retry any command. */
  static final Set<String> REJECTED_WITHOUT_EXECUTION =
      new HashSet<>(
          Arrays.asList(
              "LOADING", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "READONLY", "BUSY", "NOREPLICAS"));

  private final int maxAttempts;
  private final Backoff backoff;
  private final boolean retryConnection;
  private final boolean retryTimeout;
  private final Set<String> retryStatusCodes;
  private final long maxDurationNanos;
  private final boolean unsafeWrites;
  private final boolean idempotentState;
  private final Set<String> idempotentCommands;

  public RetryPolicy(
      int maxAttempts,
      Backoff backoff,
      Set<String> retryOn,
      long maxDurationNanos,
      boolean unsafeWrites,
      boolean idempotentState,
      Set<String> idempotentCommands) {
    this.maxAttempts = maxAttempts;
    this.backoff = backoff;
    this.retryConnection = retryOn.contains("connection");
    this.retryTimeout = retryOn.contains("timeout");
    Set<String> codes = new HashSet<>(retryOn);
    codes.remove("connection");
    codes.remove("timeout");
    this.retryStatusCodes = codes;
    this.maxDurationNanos = maxDurationNanos;
    this.unsafeWrites = unsafeWrites;
    this.idempotentState = idempotentState;
    this.idempotentCommands = idempotentCommands;
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  public Backoff backoff() {
    return backoff;
  }

  public long maxDurationNanos() {
    return maxDurationNanos;
  }

  /** True when this failure is of a kind {@code retry.on} lists (and so costs budget). */
  public boolean isRetryable(Failure f) {
    switch (f.kind()) {
      case CONNECTION:
        return retryConnection;
      case TIMEOUT:
        return retryTimeout;
      case SERVER:
        return retryStatusCodes.contains(f.statusCode());
      default:
        return false;
    }
  }

  /** The failure proves the server did not execute the command. */
  public static boolean provenNotExecuted(Failure f) {
    return f.phase() == Failure.Phase.NOT_SENT
        || (f.kind() == Failure.Kind.SERVER && REJECTED_WITHOUT_EXECUTION.contains(f.statusCode()));
  }

  /**
   * Decides about the attempt that just failed.
   *
   * @param attempts attempts made so far, the failed one included
   * @param elapsedNanos time since the operation started
   * @return null to retry, or why not
   */
  public Refusal refusal(
      CommandInfo cmd, ArgView args, Failure f, int attempts, long elapsedNanos, long nextBackoffNanos, RetryBudget budget) {
    if (!isRetryable(f)) {
      return Refusal.NOT_RETRYABLE;
    }
    Safety safety = cmd.safetyDependsOnArgs() ? cmd.safety(args) : cmd.baseSafety();
    if (safety == Safety.NEVER) {
      return Refusal.NEVER;
    }
    if (!provenNotExecuted(f)
        && (safety == Safety.NOT_IDEMPOTENT
            || (safety == Safety.IDEMPOTENT_STATE && !idempotentState))
        && !unsafeWrites
        && !idempotentCommands.contains(cmd.name())) {
      return Refusal.NOT_IDEMPOTENT;
    }
    if (attempts >= maxAttempts) {
      return Refusal.ATTEMPTS_EXHAUSTED;
    }
    if (maxDurationNanos > 0 && elapsedNanos + nextBackoffNanos >= maxDurationNanos) {
      return Refusal.DEADLINE;
    }
    if (budget != null && !budget.allowsRetry()) {
      return Refusal.BUDGET_EXHAUSTED;
    }
    return null;
  }
}
