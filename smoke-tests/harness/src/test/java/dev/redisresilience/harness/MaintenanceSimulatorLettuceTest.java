package dev.redisresilience.harness;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.harness.MaintenanceSimulator.ClientRecord;
import dev.redisresilience.harness.MaintenanceSimulator.Endpoint;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real client (Lettuce 7, which opts in to Smart Client Handoffs during its handshake) through
 * the simulator: what it sends is recorded, its handshake succeeds, and notifications between
 * replies leave the connection working. (Reply order is checked in MaintenanceSimulatorTest: after
 * HELLO every handshake reply Lettuce sees is +OK, so a misplaced OK is invisible here.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MaintenanceSimulatorLettuceTest {

  @Test
  void lettuceOptsInDuringItsHandshakeAndKeepsWorkingThroughNotifications() {
    try (MaintenanceSimulator sim = MaintenanceSimulator.start()) {
      RedisClient client =
          RedisClient.create(
              RedisURI.builder()
                  .withHost("127.0.0.1")
                  .withPort(sim.primaryPort())
                  .withTimeout(Duration.ofSeconds(5))
                  .build());
      try (StatefulRedisConnection<String, String> conn = client.connect()) {
        RedisCommands<String, String> redis = conn.sync();
        assertThat(redis.set("k", "v")).isEqualTo("OK");
        assertThat(redis.get("k")).isEqualTo("v");

        ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, Duration.ofSeconds(5));
        assertThat(rec.requestedProtocol()).isEqualTo(3);
        assertThat(rec.endpointType()).isEqualTo("internal-ip");
        assertThat(rec.commands())
            .containsExactly(
                List.of("HELLO", "3"),
                List.of("CLIENT", "SETINFO", "lib-name", "Lettuce"),
                rec.commands().get(2),
                List.of("CLIENT", "MAINT_NOTIFICATIONS", "on", "moving-endpoint-type", "internal-ip"),
                List.of("SET", "k", "v"),
                List.of("GET", "k"));
        assertThat(rec.commands().get(2)).startsWith("CLIENT", "SETINFO", "lib-ver");

        assertThat(sim.pushToOptedIn(Endpoint.PRIMARY, MaintenanceNotification.migrating(1, 2, "1")))
            .isEqualTo(1);
        assertThat(redis.incr("n")).isEqualTo(1);
        assertThat(sim.pushToOptedIn(Endpoint.PRIMARY, MaintenanceNotification.migrated(1, "1")))
            .isEqualTo(1);
        assertThat(redis.incr("n")).isEqualTo(2);
        assertThat(sim.server(Endpoint.PRIMARY).getLong("n")).isEqualTo(2);
      } finally {
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      }
    }
  }

  @Test
  void withoutSupportLettuceSwallowsTheErrorAndWorks() {
    try (MaintenanceSimulator sim = MaintenanceSimulator.start()) {
      sim.optInSupported(false);
      RedisClient client = RedisClient.create("redis://127.0.0.1:" + sim.primaryPort());
      try (StatefulRedisConnection<String, String> conn = client.connect()) {
        assertThat(conn.sync().incr("n")).isEqualTo(1);
        ClientRecord rec = sim.awaitClient(r -> r.optInCommands() == 1, Duration.ofSeconds(5));
        assertThat(rec.optedIn()).isFalse();
        assertThat(sim.pushToOptedIn(Endpoint.PRIMARY, MaintenanceNotification.migrating(1, 2, "1")))
            .isZero();
      } finally {
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      }
    }
  }
}
