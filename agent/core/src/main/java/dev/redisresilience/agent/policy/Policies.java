package dev.redisresilience.agent.policy;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.Settings;
import java.util.Locale;

/**
 * The resilience policies in force: immutable values built once from configuration. A reload
 * would build a new instance and swap the one volatile reference. Per-server state (budgets,
 * outages) is not here but in {@link ServerRegistry}, so a reload cannot split it.
 */
public final class Policies {
  private static volatile Policies current = from(AgentConfig.defaults());

  private final TimeoutPolicy timeouts;
  private final RetryPolicy retries;
  private final long healthCheckIntervalNanos;
  private final int budgetTokens;
  private final double budgetRatio;
  private final boolean offlineQueueReject;
  /** Set once in {@link #from}, before the instance is published; null = the client's own. */
  private Backoff reconnectBackoff;
  private final int offlineQueueMaxSize;

  private Policies(
      TimeoutPolicy timeouts,
      RetryPolicy retries,
      long healthCheckIntervalNanos,
      int budgetTokens,
      double budgetRatio,
      boolean offlineQueueReject,
      int offlineQueueMaxSize) {
    this.offlineQueueReject = offlineQueueReject;
    this.offlineQueueMaxSize = offlineQueueMaxSize;
    this.timeouts = timeouts;
    this.retries = retries;
    this.healthCheckIntervalNanos = healthCheckIntervalNanos;
    this.budgetTokens = budgetTokens;
    this.budgetRatio = budgetRatio;
  }

  public static Policies from(AgentConfig c) {
    TimeoutPolicy t =
        new TimeoutPolicy(
            c.get(Settings.TIMEOUT_CONNECT),
            c.get(Settings.TIMEOUT_COMMAND),
            c.get(Settings.TIMEOUT_BLOCKING_MARGIN),
            TimeoutPolicy.Mode.valueOf(c.get(Settings.TIMEOUT_MODE).toUpperCase(Locale.ROOT)),
            c.get(Settings.TIMEOUT_COMMANDS));
    Backoff b =
        new Backoff(
            c.get(Settings.RETRY_BACKOFF_BASE).toNanos(),
            c.get(Settings.RETRY_BACKOFF_MAX).toNanos(),
            Backoff.Jitter.valueOf(c.get(Settings.RETRY_JITTER).toUpperCase(Locale.ROOT)));
    RetryPolicy r =
        new RetryPolicy(
            c.get(Settings.RETRY_MAX_ATTEMPTS),
            b,
            c.get(Settings.RETRY_ON),
            c.get(Settings.RETRY_MAX_DURATION).toNanos(),
            c.get(Settings.RETRY_UNSAFE_WRITES),
            c.get(Settings.RETRY_IDEMPOTENT_STATE),
            c.get(Settings.RETRY_IDEMPOTENT_COMMANDS));
    Policies p =
        new Policies(
            t,
            r,
            c.get(Settings.HEALTH_CHECK_INTERVAL).toNanos(),
            c.get(Settings.RETRY_BUDGET_TOKENS),
            c.get(Settings.RETRY_BUDGET_RATIO),
            c.get(Settings.OFFLINE_QUEUE).equals("reject"),
            c.get(Settings.OFFLINE_QUEUE_MAX_SIZE));
    String reconnectJitter = c.get(Settings.RECONNECT_JITTER);
    p.reconnectBackoff =
        reconnectJitter.equals("client")
            ? null
            : new Backoff(
                c.get(Settings.RECONNECT_BACKOFF_BASE).toNanos(),
                c.get(Settings.RECONNECT_BACKOFF_MAX).toNanos(),
                Backoff.Jitter.valueOf(reconnectJitter.toUpperCase(Locale.ROOT)));
    return p;
  }

  public static Policies get() {
    return current;
  }

  public static void install(Policies p) {
    current = p;
  }

  public TimeoutPolicy timeouts() {
    return timeouts;
  }

  public RetryPolicy retries() {
    return retries;
  }

  /**
   * True when commands issued while a client is disconnected fail at once instead of waiting in
   * the client's queue for the reconnect (node-redis' disableOfflineQueue); clients that queue.
   */
  public boolean offlineQueueReject() {
    return offlineQueueReject;
  }

  /**
   * The delay before a client's reconnect attempts, where the agent sets it (Lettuce's default
   * delay only); null = leave the client's own.
   */
  public Backoff reconnectBackoff() {
    return reconnectBackoff;
  }

  /** Commands a disconnected connection may hold for its reconnect; 0 = no bound. */
  public int offlineQueueMaxSize() {
    return offlineQueueMaxSize;
  }

  /** 0 = health checks off. */
  public long healthCheckIntervalNanos() {
    return healthCheckIntervalNanos;
  }

  /** A fresh retry budget sized by these policies, for a server seen for the first time. */
  RetryBudget newBudget() {
    return new RetryBudget(budgetTokens, budgetRatio);
  }
}
