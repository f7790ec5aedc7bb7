package dev.redisresilience.agent.policy;

import static dev.redisresilience.agent.policy.RetryPolicy.Refusal.ATTEMPTS_EXHAUSTED;
import static dev.redisresilience.agent.policy.RetryPolicy.Refusal.BUDGET_EXHAUSTED;
import static dev.redisresilience.agent.policy.RetryPolicy.Refusal.DEADLINE;
import static dev.redisresilience.agent.policy.RetryPolicy.Refusal.NEVER;
import static dev.redisresilience.agent.policy.RetryPolicy.Refusal.NOT_IDEMPOTENT;
import static dev.redisresilience.agent.policy.RetryPolicy.Refusal.NOT_RETRYABLE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.ConfigLoader;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.CommandTable;
import dev.redisresilience.agent.core.Failure;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  static final Failure READ_TIMEOUT = Failure.timeout(Failure.Phase.MAYBE_SENT, null);
  static final Failure RESET = Failure.connection(Failure.Phase.MAYBE_SENT, null);
  static final Failure REFUSED = Failure.connection(Failure.Phase.NOT_SENT, null);
  static final Failure LOADING = Failure.server("LOADING", null);
  static final Failure WRONGTYPE = Failure.server("WRONGTYPE", null);

  final RetryPolicy defaults = Policies.from(AgentConfig.defaults()).retries();

  static CommandInfo cmd(String name) {
    return CommandTable.get().lookup(name);
  }

  RetryPolicy.Refusal first(RetryPolicy p, String command, Failure f, String... args) {
    return p.refusal(cmd(command), new PolicyArgs(args), f, 1, 0, 0, null);
  }

  @Test
  void aWatchAbortIsAnAnswerNotAFailureToRetry() {
    // EXEC answered null: the server ran nothing, on purpose; even with everything retried
    RetryPolicy all =
        new RetryPolicy(
            4, defaults.backoff(), java.util.Set.of("connection", "timeout", "LOADING"), 0, true, true, java.util.Set.of());
    assertThat(first(all, "EXEC", Failure.watchAborted())).isEqualTo(RetryPolicy.Refusal.NOT_RETRYABLE);
    assertThat(first(defaults, "EXEC", Failure.watchAborted())).isEqualTo(RetryPolicy.Refusal.NOT_RETRYABLE);
  }

  @Test
  void readsAreRetriedAfterAnyRetryableFailure() {
    assertThat(first(defaults, "GET", READ_TIMEOUT, "k")).isNull();
    assertThat(first(defaults, "GET", RESET, "k")).isNull();
    assertThat(first(defaults, "GET", REFUSED, "k")).isNull();
    assertThat(first(defaults, "GET", LOADING, "k")).isNull();
  }

  @Test
  void nonIdempotentWritesAreRetriedOnlyWhenProvenNotExecuted() {
    assertThat(first(defaults, "INCR", READ_TIMEOUT, "k")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(defaults, "INCR", RESET, "k")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(defaults, "INCR", REFUSED, "k")).isNull(); // never reached the server
    assertThat(first(defaults, "INCR", LOADING, "k")).isNull(); // the server refused it
    assertThat(first(defaults, "LPUSH", Failure.server("TRYAGAIN", null), "k", "v")).isNull();
  }

  @Test
  void optionDependentWritesFollowTheirArguments() {
    assertThat(first(defaults, "SET", READ_TIMEOUT, "k", "v")).isNull();
    assertThat(first(defaults, "SET", READ_TIMEOUT, "k", "v", "NX")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(defaults, "SET", READ_TIMEOUT, "k", "v", "GET")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(defaults, "SET", READ_TIMEOUT, "k", "v", "IFEQ", "old")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(defaults, "EXPIRE", READ_TIMEOUT, "k", "10")).isNull();
    assertThat(first(defaults, "EXPIRE", READ_TIMEOUT, "k", "10", "LT")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(defaults, "HSETEX", READ_TIMEOUT, "h", "FNX", "FIELDS", "1", "f", "v"))
        .isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(defaults, "GETEX", READ_TIMEOUT, "k", "EXAT", "1")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(defaults, "ZUNIONSTORE", READ_TIMEOUT, "d", "2", "a", "b")).isNull();
    assertThat(first(defaults, "ZUNIONSTORE", READ_TIMEOUT, "d", "2", "d", "b"))
        .isEqualTo(NOT_IDEMPOTENT);
  }

  /** A re-run of SADD answers 0 ("already there"): code deduplicating on the reply skips work. */
  @Test
  void writesWhoseReplyChangesOnARerunAreNotRetriedAfterAnUnknownOutcome() {
    assertThat(first(defaults, "SADD", READ_TIMEOUT, "seen", "id")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(defaults, "DEL", READ_TIMEOUT, "k")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(defaults, "HSET", RESET, "h", "f", "v")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(defaults, "SETBIT", READ_TIMEOUT, "b", "7", "1")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(defaults, "ZADD", READ_TIMEOUT, "z", "1", "m")).isEqualTo(NOT_IDEMPOTENT);
    // proven not executed: nothing ran, so any reply is the first one
    assertThat(first(defaults, "SADD", REFUSED, "seen", "id")).isNull();
    assertThat(first(defaults, "SADD", LOADING, "seen", "id")).isNull();
  }

  @Test
  void stateOnlyWritesAreRetriedWhenOptedIn() {
    RetryPolicy optedIn = policy(Map.of("redis.resilience.retry.idempotent-state", "true"));
    assertThat(first(optedIn, "SADD", READ_TIMEOUT, "seen", "id")).isNull();
    assertThat(first(optedIn, "DEL", RESET, "k")).isNull();
    assertThat(first(optedIn, "EXPIRE", READ_TIMEOUT, "k", "0")).isNull();
    // the opt-in is about replies, not about running twice
    assertThat(first(optedIn, "INCR", READ_TIMEOUT, "k")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(optedIn, "SET", READ_TIMEOUT, "k", "v", "NX")).isEqualTo(NOT_IDEMPOTENT);
    RetryPolicy fromEnv =
        Policies.from(
                ConfigLoader.load(Map.of(), Map.of("REDIS_RESILIENCE_RETRY_IDEMPOTENT_STATE", "true")))
            .retries();
    assertThat(first(fromEnv, "HSET", READ_TIMEOUT, "h", "f", "v")).isNull();
    // the broader opt-ins cover state-only writes too
    assertThat(first(policy(Map.of("redis.resilience.retry.unsafe-writes", "true")), "SADD", READ_TIMEOUT, "s", "m"))
        .isNull();
    assertThat(first(policy(Map.of("redis.resilience.retry.idempotent-commands", "SADD")), "SADD", READ_TIMEOUT, "s", "m"))
        .isNull();
  }

  @Test
  void connectionStateIsNeverRetried() {
    assertThat(first(defaults, "CLIENT", READ_TIMEOUT, "SETNAME", "app")).isEqualTo(NEVER);
    assertThat(first(defaults, "CLIENT", READ_TIMEOUT, "TRACKING", "ON")).isEqualTo(NEVER);
  }

  @Test
  void neverRetried() {
    assertThat(first(defaults, "EXEC", REFUSED)).isEqualTo(NEVER);
    assertThat(first(defaults, "SUBSCRIBE", REFUSED, "c")).isEqualTo(NEVER);
    assertThat(first(defaults, "SELECT", REFUSED, "1")).isEqualTo(NEVER);
  }

  @Test
  void onlyConfiguredFailuresAreRetryable() {
    assertThat(first(defaults, "GET", WRONGTYPE, "k")).isEqualTo(NOT_RETRYABLE);
    assertThat(first(defaults, "GET", Failure.server("MOVED", null), "k")).isEqualTo(NOT_RETRYABLE);
    assertThat(first(defaults, "GET", Failure.other(new IllegalStateException()), "k"))
        .isEqualTo(NOT_RETRYABLE);
    RetryPolicy onlyLoading = policy(Map.of("redis.resilience.retry.on", "LOADING"));
    assertThat(first(onlyLoading, "GET", READ_TIMEOUT, "k")).isEqualTo(NOT_RETRYABLE);
    assertThat(first(onlyLoading, "GET", LOADING, "k")).isNull();
  }

  /**
   * jedis#3187: the cluster gatekeeper lets Jedis re-send on NOT_RETRYABLE. With retry.on=LOADING a
   * read timeout is "not retryable", and INCR must still come back as NOT_IDEMPOTENT.
   */
  @Test
  void safetyIsCheckedBeforeRetryOnWhenTheOutcomeIsUnknown() {
    RetryPolicy onlyLoading = policy(Map.of("redis.resilience.retry.on", "LOADING"));
    assertThat(first(onlyLoading, "INCR", READ_TIMEOUT, "k")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(onlyLoading, "INCR", RESET, "k")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(onlyLoading, "INCR", Failure.cancelled(null), "k")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(onlyLoading, "SADD", READ_TIMEOUT, "s", "m")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(onlyLoading, "SET", READ_TIMEOUT, "k", "v", "GET")).isEqualTo(NOT_IDEMPOTENT);
    assertThat(first(onlyLoading, "SUBSCRIBE", READ_TIMEOUT, "c")).isEqualTo(NEVER);
    // safe to re-run: retry.on decides
    assertThat(first(onlyLoading, "GET", READ_TIMEOUT, "k")).isEqualTo(NOT_RETRYABLE);
    assertThat(first(onlyLoading, "SET", READ_TIMEOUT, "k", "v")).isEqualTo(NOT_RETRYABLE);
    // proven not executed: nothing ran, retry.on decides
    assertThat(first(onlyLoading, "INCR", REFUSED, "k")).isEqualTo(NOT_RETRYABLE);
    assertThat(first(onlyLoading, "INCR", LOADING, "k")).isNull();
    // an error reply is a definite outcome: not "not idempotent"
    assertThat(first(onlyLoading, "INCR", WRONGTYPE, "k")).isEqualTo(NOT_RETRYABLE);
    assertThat(first(defaults, "INCR", WRONGTYPE, "k")).isEqualTo(NOT_RETRYABLE);
    assertThat(first(defaults, "INCR", Failure.other(new IllegalStateException()), "k"))
        .isEqualTo(NOT_RETRYABLE);
    // safety also comes before attempts, deadline and budget
    assertThat(defaults.refusal(cmd("INCR"), new PolicyArgs("k"), READ_TIMEOUT, 4, 0, 0, null))
        .isEqualTo(NOT_IDEMPOTENT);
  }

  @Test
  void safeToRerunAnswersForTheCommandAndTheFailure() {
    assertThat(defaults.safeToRerun(cmd("GET"), new PolicyArgs("k"), READ_TIMEOUT)).isTrue();
    assertThat(defaults.safeToRerun(cmd("SET"), new PolicyArgs("k", "v"), READ_TIMEOUT)).isTrue();
    assertThat(defaults.safeToRerun(cmd("SET"), new PolicyArgs("k", "v", "GET"), READ_TIMEOUT))
        .isFalse();
    assertThat(defaults.safeToRerun(cmd("INCR"), new PolicyArgs("k"), READ_TIMEOUT)).isFalse();
    assertThat(defaults.safeToRerun(cmd("INCR"), new PolicyArgs("k"), REFUSED)).isTrue();
    assertThat(defaults.safeToRerun(cmd("INCR"), new PolicyArgs("k"), LOADING)).isTrue();
    assertThat(defaults.safeToRerun(cmd("SADD"), new PolicyArgs("s", "m"), RESET)).isFalse();
    assertThat(
            policy(Map.of("redis.resilience.retry.idempotent-state", "true"))
                .safeToRerun(cmd("SADD"), new PolicyArgs("s", "m"), RESET))
        .isTrue();
    // never-retried commands stay so even when they did not run (session state)
    assertThat(defaults.safeToRerun(cmd("EXEC"), new PolicyArgs(), REFUSED)).isFalse();
  }

  @Test
  void optInsForUnsafeWrites() {
    assertThat(first(policy(Map.of("redis.resilience.retry.unsafe-writes", "true")), "INCR", READ_TIMEOUT, "k"))
        .isNull();
    RetryPolicy listed = policy(Map.of("redis.resilience.retry.idempotent-commands", "incr,EVALSHA"));
    assertThat(first(listed, "INCR", READ_TIMEOUT, "k")).isNull();
    assertThat(first(listed, "DECR", READ_TIMEOUT, "k")).isEqualTo(NOT_IDEMPOTENT);
  }

  @Test
  void attemptsDeadlineAndBudget() {
    assertThat(defaults.maxAttempts()).isEqualTo(4);
    assertThat(defaults.refusal(cmd("GET"), new PolicyArgs("k"), READ_TIMEOUT, 3, 0, 0, null)).isNull();
    assertThat(defaults.refusal(cmd("GET"), new PolicyArgs("k"), READ_TIMEOUT, 4, 0, 0, null))
        .isEqualTo(ATTEMPTS_EXHAUSTED);
    long tenSeconds = TimeUnit.SECONDS.toNanos(10);
    assertThat(defaults.refusal(cmd("GET"), new PolicyArgs("k"), READ_TIMEOUT, 1, tenSeconds - 5, 10, null))
        .isEqualTo(DEADLINE);
    RetryBudget empty = new RetryBudget(10, 0.1);
    for (int i = 0; i < 5; i++) {
      empty.onRetryableFailure();
    }
    assertThat(defaults.refusal(cmd("GET"), new PolicyArgs("k"), READ_TIMEOUT, 1, 0, 0, empty))
        .isEqualTo(BUDGET_EXHAUSTED);
  }

  static RetryPolicy policy(Map<String, String> props) {
    return Policies.from(ConfigLoader.load(props, Map.of())).retries();
  }
}
