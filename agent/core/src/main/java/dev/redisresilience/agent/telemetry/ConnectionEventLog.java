package dev.redisresilience.agent.telemetry;

import static dev.redisresilience.agent.telemetry.TelemetryNames.*;

import dev.redisresilience.agent.policy.ServerState;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.LogRecordBuilder;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.Meter;
import java.util.function.Function;

/**
 * Connection events as OpenTelemetry log records, one story for every client: connected,
 * disconnected, reconnect attempt, connect failed, connection replaced, cluster redirect and
 * topology change, each with the server's address and never a credential or a value. A storm
 * cannot flood the log pipeline: at most {@value EventRateLimit#PER_SECOND} records per server
 * and event name per second; the rest are counted in {@code redis.client.events.suppressed}.
 */
public final class ConnectionEventLog {
  static final AttributeKey<String> NAME = AttributeKey.stringKey(EVENT_NAME);
  static final AttributeKey<String> ERROR = AttributeKey.stringKey(ERROR_TYPE);
  static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey(RECONNECT_ATTEMPT);
  static final AttributeKey<Double> DELAY = AttributeKey.doubleKey(RECONNECT_DELAY);
  static final AttributeKey<String> REASON = AttributeKey.stringKey(REPLACE_REASON);
  static final AttributeKey<String> KIND = AttributeKey.stringKey(REDIRECT_KIND);
  static final AttributeKey<Long> SLOT = AttributeKey.longKey(CLUSTER_SLOT);
  static final AttributeKey<Long> NODES = AttributeKey.longKey(CLUSTER_NODES);
  static final AttributeKey<Long> ADDED = AttributeKey.longKey(CLUSTER_NODES_ADDED);
  static final AttributeKey<Long> REMOVED = AttributeKey.longKey(CLUSTER_NODES_REMOVED);
  static final AttributeKey<String> PREVIOUS_ADDRESS = AttributeKey.stringKey(SENTINEL_PREVIOUS_ADDRESS);
  static final AttributeKey<Long> PREVIOUS_PORT = AttributeKey.longKey(SENTINEL_PREVIOUS_PORT);
  static final AttributeKey<Double> DOWNTIME_S = AttributeKey.doubleKey(DOWNTIME_SECONDS);
  /** The rate-limit key of events that belong to no one server (a cluster's topology). */
  private static final Object NO_SERVER = new Object();

  private final Logger log;
  private final Function<ServerState, Attributes> serverAttributes;
  private final LongCounter suppressed;
  private final boolean metrics;
  private final EventRateLimit limit;

  ConnectionEventLog(
      Logger log,
      Meter meter,
      boolean metricsEnabled,
      Function<ServerState, Attributes> serverAttributes,
      int perSecond) {
    this.log = log;
    this.metrics = metricsEnabled;
    this.serverAttributes = serverAttributes;
    this.limit = new EventRateLimit(perSecond);
    this.suppressed =
        meter
            .counterBuilder(EVENTS_SUPPRESSED)
            .setUnit("{event}")
            .setDescription(
                "Connection event log records not emitted because their server had emitted "
                    + EventRateLimit.PER_SECOND
                    + " of that event.name in the last second.")
            .build();
  }

  /** A connection to the server is established and usable (its handshake done). */
  public void connected(ServerState s) {
    LogRecordBuilder r = record(LOG_CONNECTION_CONNECTED, s, Severity.INFO);
    if (r != null) {
      r.setBody("connected to " + name(s)).emit();
    }
  }

  /**
   * An established connection to the server closed. INFO, not WARN: the application's own close
   * looks the same; a reconnect attempt (or a failure) after it tells that it was not wanted.
   */
  public void disconnected(ServerState s) {
    LogRecordBuilder r = record(LOG_CONNECTION_DISCONNECTED, s, Severity.INFO);
    if (r != null) {
      r.setBody("disconnected from " + name(s)).emit();
    }
  }

  /** The client is about to reconnect (attempt 1 = the first) after {@code delayNanos}. */
  public void reconnectAttempt(ServerState s, long attempt, long delayNanos) {
    LogRecordBuilder r = record(LOG_RECONNECT_ATTEMPT, s, Severity.INFO);
    if (r != null) {
      r.setAttribute(ATTEMPT, attempt)
          .setAttribute(DELAY, delayNanos / 1e9)
          .setBody("reconnect attempt " + attempt + " to " + name(s))
          .emit();
    }
  }

  /** A connect (or reconnect attempt {@code attempt}; 0 = not counted) to the server failed. */
  public void connectFailed(ServerState s, String errorType, long attempt) {
    LogRecordBuilder r = record(LOG_CONNECTION_FAILED, s, Severity.WARN);
    if (r != null) {
      r.setAttribute(ERROR, errorType);
      if (attempt > 0) {
        r.setAttribute(ATTEMPT, attempt);
      }
      r.setBody("connection to " + name(s) + " failed (" + errorType + ")").emit();
    }
  }

  /** The agent replaced a connection to the server in place ({@code reason}: broken, health_check, moving). */
  public void replaced(ServerState s, String reason) {
    LogRecordBuilder r = record(LOG_CONNECTION_REPLACED, s, Severity.INFO);
    if (r != null) {
      r.setAttribute(REASON, reason).setBody("connection to " + name(s) + " replaced (" + reason + ")").emit();
    }
  }

  /** A cluster node answered MOVED or ASK ({@code kind}) for {@code slot}: the command goes to {@code target}. */
  public void redirect(ServerState target, String kind, int slot) {
    LogRecordBuilder r = record(LOG_CLUSTER_REDIRECT, target, Severity.INFO);
    if (r != null) {
      r.setAttribute(KIND, kind)
          .setAttribute(SLOT, (long) slot)
          .setBody(kind + " redirect of slot " + slot + " to " + name(target))
          .emit();
    }
  }

  /** The client's view of the cluster changed: {@code nodes} nodes now, so many added and removed. */
  public void topologyChanged(int nodes, int added, int removed) {
    LogRecordBuilder r = record(LOG_CLUSTER_TOPOLOGY_CHANGED, null, Severity.INFO);
    if (r != null) {
      r.setAttribute(NODES, (long) nodes)
          .setAttribute(ADDED, (long) added)
          .setAttribute(REMOVED, (long) removed)
          .setBody("cluster topology changed: " + nodes + " nodes (+" + added + " -" + removed + ")")
          .emit();
    }
  }

  /**
   * A Sentinel-managed client switched from master {@code previous} to {@code next}; {@code
   * downtimeNanos} (-1: none seen) since {@code previous} first refused a write for its role.
   */
  public void sentinelFailover(ServerState previous, ServerState next, long downtimeNanos) {
    LogRecordBuilder r = record(LOG_SENTINEL_FAILOVER, next, Severity.WARN);
    if (r != null) {
      r.setAttribute(PREVIOUS_ADDRESS, previous.address())
          .setAttribute(PREVIOUS_PORT, (long) previous.port());
      if (downtimeNanos >= 0) {
        r.setAttribute(DOWNTIME_S, downtimeNanos / 1e9);
      }
      r.setBody("sentinel failover: master " + name(previous) + " -> " + name(next)).emit();
    }
  }

  /** A builder with the server's attributes, or null when the rate limit drops the record. */
  private LogRecordBuilder record(String event, ServerState s, Severity severity) {
    Attributes server = serverAttributes.apply(s);
    if (!limit.allow(s == null ? NO_SERVER : s, event, System.nanoTime())) {
      if (metrics) {
        suppressed.add(1, server.toBuilder().put(NAME, event).build());
      }
      return null;
    }
    return log.logRecordBuilder().setEventName(event).setSeverity(severity).setAllAttributes(server);
  }

  private static String name(ServerState s) {
    return s == null ? "?" : s.address() + ":" + s.port();
  }
}
