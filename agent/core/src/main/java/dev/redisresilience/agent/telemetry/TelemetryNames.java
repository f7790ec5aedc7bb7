package dev.redisresilience.agent.telemetry;

/**
 * Every span, metric, attribute and event name the agent emits, in one place. Stable database
 * semantic conventions where they exist; the SCH names are shared with redis-py, go-redis and
 * node-redis so one dashboard serves all of them.
 */
public final class TelemetryNames {
  private TelemetryNames() {}

  // --- instrumentation scopes ---
  public static final String SCOPE_PREFIX = "dev.redisresilience.agent.";

  // --- semantic-convention attributes ---
  public static final String DB_SYSTEM_NAME = "db.system.name";
  public static final String DB_SYSTEM_VALUE = "redis";
  public static final String DB_OPERATION_NAME = "db.operation.name";
  public static final String DB_NAMESPACE = "db.namespace";
  public static final String DB_QUERY_TEXT = "db.query.text";
  public static final String DB_OPERATION_BATCH_SIZE = "db.operation.batch.size";
  public static final String DB_RESPONSE_STATUS_CODE = "db.response.status_code";
  public static final String SERVER_ADDRESS = "server.address";
  public static final String SERVER_PORT = "server.port";
  public static final String NETWORK_PEER_ADDRESS = "network.peer.address";
  public static final String NETWORK_PEER_PORT = "network.peer.port";
  public static final String ERROR_TYPE = "error.type";

  // --- semantic-convention metrics ---
  public static final String OPERATION_DURATION = "db.client.operation.duration";

  // --- batch operation names (semconv: PIPELINE / MULTI) ---
  public static final String OPERATION_PIPELINE = "PIPELINE";
  public static final String OPERATION_MULTI = "MULTI";

  // --- resilience metrics ---
  public static final String RETRIES = "redis.client.retries";
  public static final String TIMEOUTS = "redis.client.timeouts";
  public static final String ERRORS = "redis.client.errors";
  public static final String RECONNECTS = "redis.client.reconnects";
  public static final String DOWNTIME = "redis.client.connection.downtime";
  public static final String BUDGET_EXHAUSTED = "redis.client.retry.budget.exhausted";
  public static final String HEALTH_CHECKS = "redis.client.health_checks";
  public static final String HEALTH_CHECK_DURATION = "redis.client.health_check.duration";
  /** Up/down counter: commands waiting in a client's offline queue for their reconnect. */
  public static final String OFFLINE_QUEUE_SIZE = "redis.client.connection.offline_queue.size";

  // --- resilience attributes ---
  public static final String RETRY_OUTCOME = "redis.client.retry.outcome";
  public static final String TIMEOUT_KIND = "redis.client.timeout.kind";
  public static final String RECONNECT_OUTCOME = "redis.client.reconnect.outcome";
  public static final String HEALTH_CHECK_OUTCOME = "redis.client.health_check.outcome";
  public static final String OPERATION_ATTEMPTS = "redis.client.operation.attempts";
  public static final String RETRY_ATTEMPT = "redis.client.retry.attempt";
  public static final String RETRY_BACKOFF = "redis.client.retry.backoff";
  public static final String RETRY_REFUSAL = "redis.client.retry.refusal";
  public static final String DOWNTIME_SECONDS = "redis.client.connection.downtime";

  // --- span events ---
  public static final String EVENT_RETRY = "redis.client.retry";
  public static final String EVENT_RETRY_REFUSED = "redis.client.retry.refused";

  // --- log events ---
  public static final String LOG_CONNECTION_DOWN = "redis.client.connection.down";
  public static final String LOG_CONNECTION_RESTORED = "redis.client.connection.restored";
  public static final String LOG_BUDGET_EXHAUSTED = "redis.client.retry.budget.exhausted";
  // connection events, the same for every client (rate limited per server and name)
  public static final String LOG_CONNECTION_CONNECTED = "redis.client.connection.connected";
  public static final String LOG_CONNECTION_DISCONNECTED = "redis.client.connection.disconnected";
  public static final String LOG_RECONNECT_ATTEMPT = "redis.client.connection.reconnect_attempt";
  public static final String LOG_CONNECTION_FAILED = "redis.client.connection.failed";
  public static final String LOG_CONNECTION_REPLACED = "redis.client.connection.replaced";
  public static final String LOG_CLUSTER_REDIRECT = "redis.client.cluster.redirect";
  public static final String LOG_CLUSTER_TOPOLOGY_CHANGED = "redis.client.cluster.topology_changed";
  /** A Sentinel-managed client switched to a new master (server.* = the new one). */
  public static final String LOG_SENTINEL_FAILOVER = "redis.client.sentinel.failover";

  // --- connection event attributes and the counter of records the rate limit dropped ---
  public static final String EVENTS_SUPPRESSED = "redis.client.events.suppressed";
  public static final String EVENT_NAME = "event.name";
  public static final String RECONNECT_ATTEMPT = "redis.client.reconnect.attempt";
  /** Seconds until the reconnect attempt. */
  public static final String RECONNECT_DELAY = "redis.client.reconnect.delay";
  /** broken (the connection failed) or health_check (an idle connection did not answer PING). */
  public static final String REPLACE_REASON = "redis.client.connection.replace.reason";
  /** MOVED or ASK. */
  public static final String REDIRECT_KIND = "redis.client.cluster.redirect.kind";
  public static final String CLUSTER_SLOT = "redis.client.cluster.slot";
  public static final String CLUSTER_NODES = "redis.client.cluster.nodes";
  public static final String CLUSTER_NODES_ADDED = "redis.client.cluster.nodes.added";
  public static final String CLUSTER_NODES_REMOVED = "redis.client.cluster.nodes.removed";
  /** The master a Sentinel-managed client switched away from. */
  public static final String SENTINEL_PREVIOUS_ADDRESS = "redis.client.sentinel.previous_master.address";
  public static final String SENTINEL_PREVIOUS_PORT = "redis.client.sentinel.previous_master.port";

  // --- values ---
  public static final String OUTCOME_SUCCESS = "success";
  public static final String OUTCOME_FAILURE = "failure";
  /** A retry left to the client's own loop (JedisCluster): the agent only let it happen. */
  public static final String OUTCOME_DELEGATED = "delegated";
  public static final String TIMEOUT_CONNECT = "connect";
  public static final String TIMEOUT_COMMAND = "command";
  public static final String TIMEOUT_BLOCKING = "blocking";

  // --- the agent's own health ---
  public static final String AGENT_FAULTS = "redis.resilience.agent.faults";
  public static final String AGENT_FAULT_KIND = "redis.resilience.fault.kind";
  public static final String AGENT_SPANS_DROPPED = "redis.resilience.agent.spans.dropped";
  public static final String AGENT_SPANS_SAMPLED_OUT = "redis.resilience.agent.spans.sampled_out";
  public static final String AGENT_EXPORT_FAILURES = "redis.resilience.agent.export.failures";
  /** spans, metrics or logs. */
  public static final String EXPORT_SIGNAL = "redis.resilience.export.signal";

  // --- Smart Client Handoffs (maintenance): metric names shared with redis-py, go-redis and
  // node-redis, so one dashboard serves all of them.
  /** Counter: maintenance push notifications received, by {@link #MAINT_NOTIFICATION}. */
  public static final String MAINT_NOTIFICATIONS = "redis.client.maintenance.notifications";
  /** MOVING, MIGRATING, MIGRATED, FAILING_OVER, FAILED_OVER. */
  public static final String MAINT_NOTIFICATION = "redis.client.connection.notification";
  /** Up/down counter: connections currently running with relaxed timeouts. */
  public static final String RELAXED_TIMEOUT_CONNECTIONS = "redis.client.connection.relaxed_timeout";
  /** Counter: connection hand-offs to a new endpoint, by {@link #HANDOFF_OUTCOME}. */
  public static final String HANDOFFS = "redis.client.connection.handoff";
  public static final String HANDOFF_OUTCOME = "outcome";
  /** Counter: push frames ignored (malformed maintenance frames, unknown push types), by reason. */
  public static final String MAINT_NOTIFICATIONS_REJECTED = "redis.client.maintenance.notifications.rejected";
  /** malformed or unknown_type. */
  public static final String MAINT_REJECT_REASON = "redis.client.maintenance.reject.reason";
  public static final String MAINT_SEQ = "redis.client.maintenance.seq";
  /** Seconds the server announced (MOVING: how long the old endpoint stays). */
  public static final String MAINT_TIME = "redis.client.maintenance.time";
  /** MOVING's new endpoint, host:port or "null" (the same endpoint, later). */
  public static final String MAINT_ENDPOINT = "redis.client.maintenance.endpoint";
  public static final String MAINT_SHARDS = "redis.client.maintenance.shards";
  /** agent (the agent acts on the notification) or client (the client library does; reported only). */
  public static final String MAINT_HANDLED_BY = "redis.client.maintenance.handled_by";
  public static final String MAINT_HANDOFF_DURATION = "redis.client.connection.handoff.duration";
  /** One log record per notification. */
  public static final String LOG_MAINT_NOTIFICATION = "redis.client.maintenance.notification";
  /** One log record per hand-off after MOVING. */
  public static final String LOG_MAINT_HANDOFF = "redis.client.connection.handoff";
  /** Span event on an operation in flight on a connection that received a notification. */
  public static final String EVENT_MAINT_NOTIFICATION = "redis.client.maintenance.notification";
  public static final String HANDLED_BY_AGENT = "agent";
  public static final String HANDLED_BY_CLIENT = "client";
}
