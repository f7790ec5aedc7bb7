package dev.redisresilience.agent.telemetry;

import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.maintenance.ConnectionMaintenance;
import dev.redisresilience.agent.maintenance.MaintenanceNotice;
import dev.redisresilience.agent.maintenance.MaintenanceNotice.Type;
import dev.redisresilience.agent.maintenance.MaintenancePolicy;
import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.policy.ServerState;
import io.opentelemetry.api.common.AttributeKey;
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
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Maintenance telemetry under the cross-client names: counters, the relaxed gauge, log records. */
class MaintenanceTelemetryTest {
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
  final ServerState server = ServerRegistry.server("maint-telemetry-test", "10.4.4.4", 12000);
  final ServerState target = ServerRegistry.server("maint-telemetry-test", "10.4.4.5", 12001);

  List<LongPointData> points(String name) {
    List<LongPointData> out = new ArrayList<>();
    for (MetricData m : metrics.collectAllMetrics()) {
      if (m.getName().equals(name)) {
        out.addAll(m.getLongSumData().getPoints());
      }
    }
    return out;
  }

  @Test
  void eachNotificationIsCountedByTypeAndLoggedOnceWithItsFields() {
    MaintenanceTelemetry t = rt.maintenance();
    t.notification(server, MaintenanceNotice.of(Type.MIGRATING, 4, 15, null, 0, "1,2"), "agent");
    t.notification(server, MaintenanceNotice.of(Type.MOVING, 5, 30, "10.4.4.5", 12001, null), "client");

    List<LongPointData> n = points("redis.client.maintenance.notifications");
    assertThat(n).hasSize(2);
    assertThat(n)
        .anySatisfy(
            p -> {
              assertThat(p.getAttributes().get(AttributeKey.stringKey("redis.client.connection.notification")))
                  .isEqualTo("MIGRATING");
              assertThat(p.getAttributes().get(AttributeKey.stringKey("server.address"))).isEqualTo("10.4.4.4");
              assertThat(p.getValue()).isEqualTo(1);
            });
    List<LogRecordData> records = logs.getFinishedLogRecordItems();
    assertThat(records).hasSize(2);
    assertThat(records.get(0))
        .hasEventName("redis.client.maintenance.notification")
        .hasSeverity(Severity.INFO)
        .hasAttributesSatisfying(
            a -> {
              assertThat(a.get(AttributeKey.longKey("redis.client.maintenance.seq"))).isEqualTo(4);
              assertThat(a.get(AttributeKey.longKey("redis.client.maintenance.time"))).isEqualTo(15);
              assertThat(a.get(AttributeKey.stringKey("redis.client.maintenance.shards"))).isEqualTo("1,2");
              assertThat(a.get(AttributeKey.stringKey("redis.client.maintenance.handled_by"))).isEqualTo("agent");
            });
    assertThat(records.get(1))
        .hasSeverity(Severity.WARN)
        .hasAttributesSatisfying(
            a ->
                assertThat(a.get(AttributeKey.stringKey("redis.client.maintenance.endpoint")))
                    .isEqualTo("10.4.4.5:12001"));
    assertThat(records.get(1).getBodyValue().asString())
        .isEqualTo("MOVING seq=5 time=30s endpoint=10.4.4.5:12001 from 10.4.4.4:12000");
  }

  @Test
  void relaxedConnectionsAreObservedWhileTheyAreRelaxed() {
    MaintenanceTelemetry t = rt.maintenance();
    MaintenancePolicy p = MaintenancePolicy.from(AgentConfig.defaults());
    ConnectionMaintenance a = new ConnectionMaintenance(server);
    ConnectionMaintenance b = new ConnectionMaintenance(server);
    t.relaxable(a);
    t.relaxable(b);
    a.apply(MaintenanceNotice.of(Type.MIGRATING, 1, 10, null, 0, null), p, System.nanoTime());
    b.apply(MaintenanceNotice.of(Type.MIGRATING, 1, 10, null, 0, null), p, System.nanoTime());
    assertThat(points("redis.client.connection.relaxed_timeout")).singleElement().satisfies(x -> assertThat(x.getValue()).isEqualTo(2));
    b.closed();
    assertThat(points("redis.client.connection.relaxed_timeout")).singleElement().satisfies(x -> assertThat(x.getValue()).isEqualTo(1));
    assertThat(t.relaxedCount()).isEqualTo(1);
  }

  @Test
  void rejectedFramesAreCountedByReason() {
    MaintenanceTelemetry t = rt.maintenance();
    t.rejected(server, "malformed", "MOVING without time (2 elements)");
    t.rejected(server, "malformed", "again");
    t.rejected(server, "unknown_type", "SOMETHING");
    List<LongPointData> r = points("redis.client.maintenance.notifications.rejected");
    assertThat(r).hasSize(2);
    assertThat(r.stream().mapToLong(LongPointData::getValue).sum()).isEqualTo(3);
  }

  @Test
  void aHandoffIsCountedByOutcomeAndLogged() {
    MaintenanceTelemetry t = rt.maintenance();
    t.handoff(server, target, "success", 31_000_000L);
    assertThat(points("redis.client.connection.handoff"))
        .singleElement()
        .satisfies(
            p -> assertThat(p.getAttributes().get(AttributeKey.stringKey("outcome"))).isEqualTo("success"));
    assertThat(logs.getFinishedLogRecordItems())
        .singleElement()
        .satisfies(
            l ->
                assertThat(l.getBodyValue().asString())
                    .isEqualTo("hand-off from 10.4.4.4:12000 to 10.4.4.5:12001: success after 0.031s"));
  }
}
