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
 * <p>The retry-safety rule, checked before anything else (before {@code retry.on}, attempts,
 * deadline and budget, so that no caller can read "not configured" as "go ahead"):
 *
 * <ul>
 *   <li>A failure proven to have happened before the server could execute the command (connect
 *       failed, the write failed, or the server refused it: LOADING, TRYAGAIN, CLUSTERDOWN,
 *       MASTERDOWN, READONLY, BUSY, NOREPLICAS) may be retried for any command.
 *   <li>After a failure that leaves the outcome unknown (read timeout, reset while waiting for the
 *       reply, cancelled), only commands whose re-run gives the same data and the same reply are
 *       re-run: read-only and {@link Safety#IDEMPOTENT_SAME_REPLY} ones. State-only idempotent
 *       writes (SADD, DEL: same data, but the reply says 0) are re-run with {@code
 *       retry.idempotent-state}; every non-idempotent one with {@code retry.unsafe-writes}, or
 *       when listed in {@code retry.idempotent-commands}. Otherwise the refusal is {@link
 *       Refusal#NOT_IDEMPOTENT} whatever {@code retry.on} says: Jedis' cluster loop, which the
 *       agent only gatekeeps, re-sends on every connection failure unless told not to.
 *   <li>Transactions, pub/sub and connection-state commands ({@link Safety#NEVER}) are never
 *       re-run.
 * </ul>
 *
 * An error reply (WRONGTYPE ...) is a definite outcome, not an unknown one: for it {@code
 * retry.on} is asked first ({@link Refusal#NOT_RETRYABLE}).
 */
public final class RetryPolicy {
  /** Why an attempt was not retried; the values of outcome / reason attributes. */
  public enum Refusal {
    NOT_RETRYABLE("not_retryable"),
    NEVER("never"),
    NOT_IDEMPOTENT("not_idempotent"),
    ATTEMPTS_EXHAUSTED("attempts_exhausted"),
    DEADLINE("deadline_exceeded"),
    BUDGET_EXHAUSTED(Failure.TYPE_BUDGET_EXHAUSTED),
    /** The connection carried session state a retry on a fresh connection would not have. */
    SESSION_STATE_LOST(Failure.TYPE_SESSION_STATE_LOST);

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
   * True when running this command again cannot give a result that one run would not have: the
   * failure proves the command did not run, or the command is safe to re-run per this policy (see
   * the class comment). Never true for {@link Safety#NEVER} commands. Says nothing about {@code
   * retry.on}, attempts or budget; {@link #refusal} checks those as well.
   */
  public boolean safeToRerun(CommandInfo cmd, ArgView args, Failure f) {
    return safeToRerun(cmd, safetyOf(cmd, args), f);
  }

  private boolean safeToRerun(CommandInfo cmd, Safety safety, Failure f) {
    switch (safety) {
      case NEVER:
        return false;
      case READ_ONLY:
      case IDEMPOTENT_SAME_REPLY:
        return true;
      default:
        return provenNotExecuted(f)
            || (safety == Safety.IDEMPOTENT_STATE && idempotentState)
            || unsafeWrites
            || idempotentCommands.contains(cmd.name());
    }
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
    Safety safety = safetyOf(cmd, args);
    boolean safe = safeToRerun(cmd, safety, f);
    // safety first: "retry.on does not list it" must not reach a caller that reads it as
    // "not my decision" (Jedis' cluster loop) while the command may already have run
    if (!safe && f.outcomeUnknown()) {
      return safety == Safety.NEVER ? Refusal.NEVER : Refusal.NOT_IDEMPOTENT;
    }
    if (!isRetryable(f)) {
      return Refusal.NOT_RETRYABLE;
    }
    if (safety == Safety.NEVER) {
      return Refusal.NEVER;
    }
    if (!safe) {
      return Refusal.NOT_IDEMPOTENT; // an error reply retry.on lists, e.g. OOM, after it may have run
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

  private static Safety safetyOf(CommandInfo cmd, ArgView args) {
    return cmd.safetyDependsOnArgs() ? cmd.safety(args) : cmd.baseSafety();
  }
}
