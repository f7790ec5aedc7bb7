package dev.redisresilience.agent.telemetry;

import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.policy.ServerState;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.logs.Severity;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.SimpleLogRecordProcessor;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.testing.exporter.InMemoryLogRecordExporter;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The connection event records: names, attributes, severities, and the rate limit's counter. */
class ConnectionEventLogTest {
  final InMemoryLogRecordExporter logs = InMemoryLogRecordExporter.create();
  final InMemoryMetricReader metrics = InMemoryMetricReader.create();
  final ResilienceTelemetry rt =
      new ResilienceTelemetry(
          OpenTelemetrySdk.builder()
              .setLoggerProvider(
                  SdkLoggerProvider.builder().addLogRecordProcessor(SimpleLogRecordProcessor.create(logs)).build())
              .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(metrics).build())
              .build(),
          "test",
          "0",
          true);
  final ServerState server = ServerRegistry.server("event-log-test", "10.1.2.3", 6380);

  static Attributes serverAttributes() {
    return Attributes.builder()
        .put("db.system.name", "redis")
        .put("server.address", "10.1.2.3")
        .put("server.port", 6380L)
        .build();
  }

  @Test
  void eachEventIsOneRecordWithTheServersAddress() {
    ConnectionEventLog log = rt.connectionEvents();
    log.connected(server);
    log.disconnected(server);
    log.reconnectAttempt(server, 3, 250_000_000L);
    log.connectFailed(server, "connection", 3);
    log.replaced(server, "health_check");
    log.redirect(server, "MOVED", 3999);
    log.topologyChanged(6, 1, 0);

    List<LogRecordData> records = logs.getFinishedLogRecordItems();
    assertThat(records).hasSize(7);
    assertThat(records.get(0))
        .hasEventName("redis.client.connection.connected")
        .hasSeverity(Severity.INFO)
        .hasAttributes(serverAttributes())
        .hasBody("connected to 10.1.2.3:6380");
    assertThat(records.get(1))
        .hasEventName("redis.client.connection.disconnected")
        .hasSeverity(Severity.INFO)
        .hasAttributes(serverAttributes());
    assertThat(records.get(2))
        .hasEventName("redis.client.connection.reconnect_attempt")
        .hasAttributes(
            serverAttributes().toBuilder()
                .put("redis.client.reconnect.attempt", 3L)
                .put("redis.client.reconnect.delay", 0.25)
                .build());
    assertThat(records.get(3))
        .hasEventName("redis.client.connection.failed")
        .hasSeverity(Severity.WARN)
        .hasAttributes(
            serverAttributes().toBuilder()
                .put("error.type", "connection")
                .put("redis.client.reconnect.attempt", 3L)
                .build());
    assertThat(records.get(4))
        .hasEventName("redis.client.connection.replaced")
        .hasAttributes(
            serverAttributes().toBuilder().put("redis.client.connection.replace.reason", "health_check").build());
    assertThat(records.get(5))
        .hasEventName("redis.client.cluster.redirect")
        .hasAttributes(
            serverAttributes().toBuilder()
                .put("redis.client.cluster.redirect.kind", "MOVED")
                .put("redis.client.cluster.slot", 3999L)
                .build());
    assertThat(records.get(6))
        .hasEventName("redis.client.cluster.topology_changed")
        .hasAttributes(
            Attributes.builder()
                .put("db.system.name", "redis")
                .put("redis.client.cluster.nodes", 6L)
                .put("redis.client.cluster.nodes.added", 1L)
                .put("redis.client.cluster.nodes.removed", 0L)
                .build());
  }

  @Test
  void aStormIsCutToFivePerSecondAndTheRestCounted() {
    ConnectionEventLog log = rt.connectionEvents();
    for (int i = 0; i < 50; i++) {
      log.connectFailed(server, "connection", i + 1);
    }
    log.connected(server); // another event name: its own allowance

    assertThat(logs.getFinishedLogRecordItems().stream().map(LogRecordData::getEventName))
        .containsExactly(
            "redis.client.connection.failed",
            "redis.client.connection.failed",
            "redis.client.connection.failed",
            "redis.client.connection.failed",
            "redis.client.connection.failed",
            "redis.client.connection.connected");
    long suppressed = 0;
    for (MetricData m : metrics.collectAllMetrics()) {
      if (m.getName().equals("redis.client.events.suppressed")) {
        for (LongPointData p : m.getLongSumData().getPoints()) {
          assertThat(p.getAttributes())
              .isEqualTo(
                  serverAttributes().toBuilder().put("event.name", "redis.client.connection.failed").build());
          suppressed += p.getValue();
        }
      }
    }
    assertThat(suppressed).isEqualTo(45);
  }
}
