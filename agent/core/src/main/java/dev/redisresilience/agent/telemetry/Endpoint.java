package dev.redisresilience.agent.telemetry;

import static dev.redisresilience.agent.telemetry.TelemetryNames.DB_NAMESPACE;
import static dev.redisresilience.agent.telemetry.TelemetryNames.DB_OPERATION_NAME;
import static dev.redisresilience.agent.telemetry.TelemetryNames.DB_SYSTEM_NAME;
import static dev.redisresilience.agent.telemetry.TelemetryNames.DB_SYSTEM_VALUE;
import static dev.redisresilience.agent.telemetry.TelemetryNames.NETWORK_PEER_ADDRESS;
import static dev.redisresilience.agent.telemetry.TelemetryNames.NETWORK_PEER_PORT;
import static dev.redisresilience.agent.telemetry.TelemetryNames.SERVER_ADDRESS;
import static dev.redisresilience.agent.telemetry.TelemetryNames.SERVER_PORT;

import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.CommandTable;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One server as one client sees it: server address and port, the peer it resolved to, and the
 * database index. Span names and metric attributes are cached here per command, so the hot path
 * only looks up an array slot.
 */
public final class Endpoint {
  final String serverAddress;
  final int serverPort;
  final String peerAddress;
  final int peerPort;
  final long database;
  final Attributes metricBase;
  final Attributes spanBase;
  private final String nameSuffix;
  private final AtomicReferenceArray<OpAttributes> perCommand =
      new AtomicReferenceArray<>(CommandTable.get().maxId());

  /** Everything one (endpoint, operation) pair needs; built once. */
  static final class OpAttributes {
    final String spanName;
    final Attributes metric;
    final Attributes span;

    OpAttributes(String spanName, Attributes metric, Attributes span) {
      this.spanName = spanName;
      this.metric = metric;
      this.span = span;
    }
  }

  Endpoint(String serverAddress, int serverPort, String peerAddress, int peerPort, long database) {
    this.serverAddress = serverAddress;
    this.serverPort = serverPort;
    this.peerAddress = peerAddress;
    this.peerPort = peerPort;
    this.database = database;
    AttributesBuilder m = Attributes.builder().put(DB_SYSTEM_NAME, DB_SYSTEM_VALUE);
    if (serverAddress != null) {
      m.put(SERVER_ADDRESS, serverAddress);
    }
    if (serverPort > 0) {
      m.put(SERVER_PORT, (long) serverPort);
    }
    if (database >= 0) {
      m.put(DB_NAMESPACE, Long.toString(database));
    }
    metricBase = m.build();
    AttributesBuilder s = metricBase.toBuilder();
    if (peerAddress != null) {
      s.put(NETWORK_PEER_ADDRESS, peerAddress);
    }
    if (peerPort > 0) {
      s.put(NETWORK_PEER_PORT, (long) peerPort);
    }
    spanBase = s.build();
    nameSuffix =
        serverAddress == null ? "" : " " + serverAddress + (serverPort > 0 ? ":" + serverPort : "");
  }

  OpAttributes forOperation(CommandInfo cmd) {
    int id = cmd.id();
    if (id < 0) {
      return build(cmd.name());
    }
    OpAttributes a = perCommand.get(id);
    if (a == null) {
      a = build(cmd.name());
      perCommand.lazySet(id, a);
    }
    return a;
  }

  private OpAttributes build(String operation) {
    return new OpAttributes(
        operation + nameSuffix,
        metricBase.toBuilder().put(DB_OPERATION_NAME, operation).build(),
        spanBase.toBuilder().put(DB_OPERATION_NAME, operation).build());
  }

  private volatile OpAttributes pipeline;
  private volatile OpAttributes multi;

  /** For batch operations (PIPELINE, MULTI), whose names are not commands. */
  OpAttributes forBatch(String operation) {
    if (TelemetryNames.OPERATION_PIPELINE.equals(operation)) {
      OpAttributes a = pipeline;
      return a != null ? a : (pipeline = build(operation));
    }
    if (TelemetryNames.OPERATION_MULTI.equals(operation)) {
      OpAttributes a = multi;
      return a != null ? a : (multi = build(operation));
    }
    return build(operation);
  }

  @Override
  public String toString() {
    return serverAddress + ":" + serverPort + "/" + database;
  }
}
