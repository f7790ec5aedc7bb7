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

  // --- the agent's own health ---
  public static final String AGENT_FAULTS = "redis.resilience.agent.faults";
  public static final String AGENT_FAULT_KIND = "redis.resilience.fault.kind";
}
