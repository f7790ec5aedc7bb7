package dev.redisresilience.agent.telemetry;

import static dev.redisresilience.agent.telemetry.TelemetryNames.*;

import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.policy.ServerState;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.ObjLongConsumer;

/**
 * Retries, timeouts, errors, reconnects, downtime, retry-budget exhaustion and health checks of
 * one client library: metrics, plus log events for the rare state changes (a server going down,
 * coming back, the retry budget running out). None of this is on the per-command success path.
 */
public final class ResilienceTelemetry {
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey(DB_OPERATION_NAME);
  static final AttributeKey<String> ERROR = AttributeKey.stringKey(ERROR_TYPE);
  static final AttributeKey<String> ADDRESS = AttributeKey.stringKey(SERVER_ADDRESS);
  static final AttributeKey<Long> PORT = AttributeKey.longKey(SERVER_PORT);
  static final AttributeKey<String> SYSTEM = AttributeKey.stringKey(DB_SYSTEM_NAME);
  static final AttributeKey<String> R_OUTCOME = AttributeKey.stringKey(RETRY_OUTCOME);
  static final AttributeKey<String> T_KIND = AttributeKey.stringKey(TIMEOUT_KIND);
  static final AttributeKey<String> C_OUTCOME = AttributeKey.stringKey(RECONNECT_OUTCOME);
  static final AttributeKey<String> H_OUTCOME = AttributeKey.stringKey(HEALTH_CHECK_OUTCOME);
  static final AttributeKey<Double> DOWNTIME_S = AttributeKey.doubleKey(DOWNTIME_SECONDS);

  private final boolean metrics;
  private final LongCounter retries;
  private final LongCounter timeouts;
  private final LongCounter errors;
  private final LongCounter reconnects;
  private final DoubleHistogram downtime;
  private final LongCounter budgetExhausted;
  private final LongCounter healthChecks;
  private final DoubleHistogram healthCheckDuration;
  private final Logger events;
  private final ConnectionEventLog connectionEvents;
  private final MaintenanceTelemetry maintenance;
  /** Set by a client that queues commands while disconnected (Lettuce); read at collection. */
  private volatile OfflineQueues offlineQueues;
  /**
   * Per server, for failures and state changes (never the success path, so a lock is fine). Weak
   * keys: an entry lives as long as its server's state ({@code ServerRegistry} bounds those), and
   * ServerState has identity equality.
   */
  private final Map<ServerState, Attributes> serverAttributes =
      Collections.synchronizedMap(new WeakHashMap<>());

  ResilienceTelemetry(OpenTelemetry otel, String scope, String version, boolean metricsEnabled) {
    this.metrics = metricsEnabled;
    Meter m = otel.meterBuilder(scope).setInstrumentationVersion(version).build();
    retries =
        m.counterBuilder(RETRIES)
            .setUnit("{retry}")
            .setDescription(
                "Retries the agent made (outcome success or failure) or declined (not_idempotent,"
                    + " attempts_exhausted, deadline_exceeded, agent_budget_exhausted).")
            .build();
    timeouts =
        m.counterBuilder(TIMEOUTS)
            .setUnit("{timeout}")
            .setDescription("Attempts that timed out, by kind: connect, command, blocking.")
            .build();
    errors =
        m.counterBuilder(ERRORS)
            .setUnit("{error}")
            .setDescription("Failed attempts by error.type, including ones a retry recovered.")
            .build();
    reconnects =
        m.counterBuilder(RECONNECTS)
            .setUnit("{reconnect}")
            .setDescription("Connection attempts to a server after it failed, by outcome.")
            .build();
    downtime =
        m.histogramBuilder(DOWNTIME)
            .setUnit("s")
            .setDescription("From a server's first connection failure to the first new connection.")
            .setExplicitBucketBoundariesAdvice(
                Arrays.asList(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0))
            .build();
    budgetExhausted =
        m.counterBuilder(BUDGET_EXHAUSTED)
            .setUnit("{retry}")
            .setDescription("Retries not made because the server's retry budget was exhausted.")
            .build();
    healthChecks =
        m.counterBuilder(HEALTH_CHECKS)
            .setUnit("{check}")
            .setDescription("PINGs on connections idle longer than health-check.interval, by outcome.")
            .build();
    healthCheckDuration =
        m.histogramBuilder(HEALTH_CHECK_DURATION)
            .setUnit("s")
            .setDescription("Latency of health-check PINGs.")
            .setExplicitBucketBoundariesAdvice(ClientTelemetry.DURATION_BUCKETS)
            .build();
    m.upDownCounterBuilder(OFFLINE_QUEUE_SIZE)
        .setUnit("{command}")
        .setDescription("Commands waiting in the offline queue of disconnected connections.")
        .buildWithCallback(
            r -> {
              OfflineQueues q = offlineQueues;
              if (metrics && q != null) {
                q.observe((s, n) -> r.record(n, server(s)));
              }
            });
    events = otel.getLogsBridge().loggerBuilder(scope).setInstrumentationVersion(version).build();
    connectionEvents =
        new ConnectionEventLog(events, m, metricsEnabled, this::server, EventRateLimit.PER_SECOND);
    maintenance = new MaintenanceTelemetry(events, m, metricsEnabled, this::server);
  }

  /** The commands queued while disconnected, per server: one call per server, 0 included. */
  @FunctionalInterface
  public interface OfflineQueues {
    void observe(ObjLongConsumer<ServerState> out);
  }

  /** The source of {@code redis.client.connection.offline_queue.size}. */
  public void offlineQueues(OfflineQueues source) {
    offlineQueues = source;
  }

  public boolean observesOfflineQueues(OfflineQueues source) {
    return offlineQueues == source;
  }

  Attributes server(ServerState s) {
    if (s == null) {
      return Attributes.of(SYSTEM, DB_SYSTEM_VALUE);
    }
    Attributes a = serverAttributes.get(s);
    if (a == null) {
      a =
          s.address() == null
              ? Attributes.of(SYSTEM, DB_SYSTEM_VALUE)
              : Attributes.of(SYSTEM, DB_SYSTEM_VALUE, ADDRESS, s.address(), PORT, (long) s.port());
      serverAttributes.putIfAbsent(s, a);
    }
    return a;
  }

  /** Connection events as log records (connected, disconnected, reconnect attempt ...). */
  public ConnectionEventLog connectionEvents() {
    return connectionEvents;
  }

  /** Smart Client Handoffs: notifications, relaxed connections, hand-offs. */
  public MaintenanceTelemetry maintenance() {
    return maintenance;
  }

  /** Servers with cached attributes (tests). */
  int serverAttributeCount() {
    return serverAttributes.size();
  }

  /** One retry made ({@code success}/{@code failure}) or declined (a refusal value). */
  public void retry(String operation, Failure cause, String outcome) {
    if (metrics) {
      retries.add(1, Attributes.of(OPERATION, operation, ERROR, cause.errorType(), R_OUTCOME, outcome));
    }
  }

  /** A failed attempt: counts the error, and the timeout by kind when it is one. */
  public void attemptFailed(Failure f, ServerState s, boolean blocking) {
    if (!metrics) {
      return;
    }
    Attributes base = server(s);
    errors.add(1, base.toBuilder().put(ERROR, f.errorType()).build());
    if (f.kind() == Failure.Kind.TIMEOUT) {
      String kind =
          f.phase() == Failure.Phase.NOT_SENT ? TIMEOUT_CONNECT : blocking ? TIMEOUT_BLOCKING : TIMEOUT_COMMAND;
      timeouts.add(1, base.toBuilder().put(T_KIND, kind).build());
    }
  }

  /** A connect attempt failed outright (before any operation could start on it). */
  public void connectTimedOut(ServerState s) {
    if (metrics) {
      timeouts.add(1, server(s).toBuilder().put(T_KIND, TIMEOUT_CONNECT).build());
    }
  }

  public void reconnect(ServerState s, boolean success) {
    if (metrics) {
      reconnects.add(1, server(s).toBuilder().put(C_OUTCOME, success ? OUTCOME_SUCCESS : OUTCOME_FAILURE).build());
    }
  }

  /** The first connection failure of an outage. */
  public void serverDown(ServerState s, Failure f) {
    events
        .logRecordBuilder()
        .setEventName(LOG_CONNECTION_DOWN)
        .setSeverity(Severity.WARN)
        .setAllAttributes(server(s))
        .setAttribute(ERROR, f.errorType())
        .setBody("connection to " + s.address() + ":" + s.port() + " failed (" + f.errorType() + ")")
        .emit();
  }

  /** A connection succeeded again after an outage of {@code nanos}. */
  public void serverRestored(ServerState s, long nanos) {
    double seconds = nanos / 1e9;
    if (metrics) {
      downtime.record(seconds, server(s));
    }
    events
        .logRecordBuilder()
        .setEventName(LOG_CONNECTION_RESTORED)
        .setSeverity(Severity.INFO)
        .setAllAttributes(server(s))
        .setAttribute(DOWNTIME_S, seconds)
        .setBody(String.format("connection to %s:%d restored after %.3fs", s.address(), s.port(), seconds))
        .emit();
  }

  /**
   * A Sentinel-managed client switched master: a failover record, and its downtime (from the old
   * master's first write refused for its role to the switch) as a downtime sample of the old one.
   */
  public void sentinelFailover(ServerState previous, ServerState next, long downtimeNanos) {
    if (metrics && downtimeNanos >= 0) {
      downtime.record(downtimeNanos / 1e9, server(previous));
    }
    connectionEvents.sentinelFailover(previous, next, downtimeNanos);
  }

  public void budgetExhausted(ServerState s) {
    if (metrics) {
      budgetExhausted.add(1, server(s));
    }
    if (s != null && s.budgetExhaustionStarts()) {
      events
          .logRecordBuilder()
          .setEventName(LOG_BUDGET_EXHAUSTED)
          .setSeverity(Severity.WARN)
          .setAllAttributes(server(s))
          .setBody(
              "retry budget for " + s.address() + ":" + s.port()
                  + " exhausted; no retries until operations succeed again")
          .emit();
    }
  }

  public void healthCheck(ServerState s, boolean success, long nanos) {
    if (metrics) {
      Attributes a = server(s).toBuilder().put(H_OUTCOME, success ? OUTCOME_SUCCESS : OUTCOME_FAILURE).build();
      healthChecks.add(1, a);
      healthCheckDuration.record(nanos / 1e9, a);
    }
  }
}
