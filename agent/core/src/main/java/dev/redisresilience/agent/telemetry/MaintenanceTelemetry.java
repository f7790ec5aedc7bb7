package dev.redisresilience.agent.telemetry;

import static dev.redisresilience.agent.telemetry.TelemetryNames.*;

import dev.redisresilience.agent.AgentLog;
import dev.redisresilience.agent.maintenance.ConnectionMaintenance;
import dev.redisresilience.agent.maintenance.MaintenanceNotice;
import dev.redisresilience.agent.policy.ServerState;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.LogRecordBuilder;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Smart Client Handoffs as telemetry, under the names redis-py, go-redis and node-redis use:
 * notifications received (counter and one log record each), connections in relaxed-timeout mode
 * (observed up/down counter), hand-offs by outcome (counter and a log record), frames rejected as
 * malformed or unknown (counter, and one agent log line per reason). Nothing here is on the
 * per-command path.
 */
public final class MaintenanceTelemetry {
  static final AttributeKey<String> NOTIFICATION = AttributeKey.stringKey(MAINT_NOTIFICATION);
  static final AttributeKey<String> OUTCOME = AttributeKey.stringKey(HANDOFF_OUTCOME);
  static final AttributeKey<String> REASON = AttributeKey.stringKey(MAINT_REJECT_REASON);
  static final AttributeKey<String> NAME = AttributeKey.stringKey(EVENT_NAME);
  static final AttributeKey<Long> SEQ = AttributeKey.longKey(MAINT_SEQ);
  static final AttributeKey<Long> TIME = AttributeKey.longKey(MAINT_TIME);
  static final AttributeKey<String> ENDPOINT = AttributeKey.stringKey(MAINT_ENDPOINT);
  static final AttributeKey<String> SHARDS = AttributeKey.stringKey(MAINT_SHARDS);
  static final AttributeKey<String> SOURCE = AttributeKey.stringKey(MAINT_HANDLED_BY);
  static final AttributeKey<Double> HANDOFF_S = AttributeKey.doubleKey(MAINT_HANDOFF_DURATION);

  private final boolean metrics;
  private final Logger log;
  private final Function<ServerState, Attributes> serverAttributes;
  private final LongCounter notifications;
  private final LongCounter rejected;
  private final LongCounter handoffs;
  /** Connections that were relaxed at least once; weak: a dropped connection leaves by itself. */
  private final Set<ConnectionMaintenance> relaxable =
      Collections.synchronizedSet(Collections.newSetFromMap(new WeakHashMap<>()));
  private final Set<String> loggedReasons = ConcurrentHashMap.newKeySet();

  MaintenanceTelemetry(Logger log, Meter m, boolean metricsEnabled, Function<ServerState, Attributes> server) {
    this.log = log;
    this.metrics = metricsEnabled;
    this.serverAttributes = server;
    notifications =
        m.counterBuilder(MAINT_NOTIFICATIONS)
            .setUnit("{notification}")
            .setDescription(
                "Maintenance push notifications received, by redis.client.connection.notification"
                    + " (MOVING, MIGRATING, MIGRATED, FAILING_OVER, FAILED_OVER).")
            .build();
    rejected =
        m.counterBuilder(MAINT_NOTIFICATIONS_REJECTED)
            .setUnit("{notification}")
            .setDescription(
                "Push frames ignored as malformed maintenance notifications or unknown push types;"
                    + " the connection stays usable.")
            .build();
    handoffs =
        m.counterBuilder(HANDOFFS)
            .setUnit("{handoff}")
            .setDescription("Connection hand-offs after MOVING, by outcome (success, failure).")
            .build();
    m.upDownCounterBuilder(RELAXED_TIMEOUT_CONNECTIONS)
        .setUnit("{connection}")
        .setDescription("Connections currently running with relaxed timeouts (maintenance).")
        .buildWithCallback(
            r -> {
              if (!metrics) {
                return;
              }
              long now = System.nanoTime();
              Map<ServerState, long[]> per = new HashMap<>();
              List<ConnectionMaintenance> all;
              synchronized (relaxable) {
                all = new ArrayList<>(relaxable);
              }
              for (ConnectionMaintenance c : all) {
                long[] n = per.computeIfAbsent(c.server(), k -> new long[1]);
                if (c.relaxed(now)) {
                  n[0]++;
                }
                if (c.isClosed()) {
                  relaxable.remove(c);
                }
              }
              per.forEach((s, n) -> r.record(n[0], serverAttributes.apply(s)));
            });
  }

  /**
   * A notification arrived on a connection to {@code s}. {@code handledBy}: agent (the agent acts
   * on it) or client (the client library does, the agent reports).
   */
  public void notification(ServerState s, MaintenanceNotice n, String handledBy) {
    Attributes server = serverAttributes.apply(s);
    if (metrics) {
      notifications.add(1, server.toBuilder().put(NOTIFICATION, n.type().name()).build());
    }
    LogRecordBuilder r =
        log.logRecordBuilder()
            .setEventName(LOG_MAINT_NOTIFICATION)
            .setSeverity(n.type() == MaintenanceNotice.Type.MOVING ? Severity.WARN : Severity.INFO)
            .setAllAttributes(server)
            .setAttribute(NOTIFICATION, n.type().name())
            .setAttribute(SEQ, n.seq())
            .setAttribute(SOURCE, handledBy);
    if (n.timeSeconds() >= 0) {
      r.setAttribute(TIME, n.timeSeconds());
    }
    if (n.type() == MaintenanceNotice.Type.MOVING) {
      r.setAttribute(ENDPOINT, n.host() == null ? "null" : n.host() + ":" + n.port());
    }
    if (n.shards() != null) {
      r.setAttribute(SHARDS, n.shards());
    }
    r.setBody(n + " from " + name(s)).emit();
  }

  /** The connection's timeouts are relaxed (or may become so): counted while they are. */
  public void relaxable(ConnectionMaintenance c) {
    relaxable.add(c);
  }

  /**
   * A push frame ignored: {@code reason} malformed or unknown_type; {@code detail} one line for the
   * agent log, printed once per reason and client.
   */
  public void rejected(ServerState s, String reason, String detail) {
    if (metrics) {
      rejected.add(1, serverAttributes.apply(s).toBuilder().put(REASON, reason).build());
    }
    if (loggedReasons.add(reason)) {
      AgentLog.warn(
          "ignored a " + reason.replace('_', ' ') + " push frame from " + name(s) + ": " + detail
              + " (counted in " + MAINT_NOTIFICATIONS_REJECTED + "; logged once)");
    }
  }

  /**
   * A hand-off after MOVING ended: from {@code from} to {@code to} (the same server for a null
   * endpoint), {@code outcome} success or failure, after {@code nanos} from the notification.
   */
  public void handoff(ServerState from, ServerState to, String outcome, long nanos) {
    if (metrics) {
      handoffs.add(1, serverAttributes.apply(from).toBuilder().put(OUTCOME, outcome).build());
    }
    boolean ok = OUTCOME_SUCCESS.equals(outcome);
    log.logRecordBuilder()
        .setEventName(LOG_MAINT_HANDOFF)
        .setSeverity(ok ? Severity.INFO : Severity.WARN)
        .setAllAttributes(serverAttributes.apply(from))
        .setAttribute(OUTCOME, outcome)
        .setAttribute(ENDPOINT, to == null ? "null" : to.address() + ":" + to.port())
        .setAttribute(HANDOFF_S, nanos / 1e9)
        .setBody(
            "hand-off from " + name(from) + " to " + (to == null ? "?" : name(to)) + ": " + outcome
                + String.format(" after %.3fs", nanos / 1e9))
        .emit();
  }

  /** Relaxed connections now (tests). */
  int relaxedCount() {
    long now = System.nanoTime();
    synchronized (relaxable) {
      int n = 0;
      for (ConnectionMaintenance c : relaxable) {
        if (c.relaxed(now)) {
          n++;
        }
      }
      return n;
    }
  }

  private static String name(ServerState s) {
    return s == null || s.address() == null ? "the server" : s.address() + ":" + s.port();
  }
}
