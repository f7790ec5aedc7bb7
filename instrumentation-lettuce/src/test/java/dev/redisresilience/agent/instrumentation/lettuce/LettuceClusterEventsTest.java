package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisCluster;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Cluster events on a real 3-node cluster: a MOVED redirect after a slot moved to another node,
 * an ASK redirect while a slot is migrating, and the topology change the client then loads.
 */
class LettuceClusterEventsTest {
  static RedisCluster cluster;

  @BeforeAll
  static void start() {
    cluster = RedisCluster.start(3);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  static String id(RedisServer node) throws IOException {
    return node.command("CLUSTER", "MYID");
  }

  static String slot(String key) throws IOException {
    return cluster.nodes().get(0).command("CLUSTER", "KEYSLOT", key).substring(1);
  }

  static RedisServer another(RedisServer node) {
    return cluster.nodes().stream().filter(n -> n != node).findFirst().get();
  }

  static List<LogRecordData> records(String eventName) {
    return TestTelemetry.logs().stream()
        .filter(l -> eventName.equals(l.getEventName()))
        .collect(Collectors.toList());
  }

  static List<LogRecordData> awaitRecords(String eventName, int count) {
    for (int i = 0; i < 500 && records(eventName).size() < count; i++) {
      TestTelemetry.sleep(10);
    }
    return records(eventName);
  }

  /** Connected and disconnected records so far. */
  static int connectionEvents() {
    return records("redis.client.connection.connected").size()
        + records("redis.client.connection.disconnected").size();
  }

  static Attributes redirect(RedisServer target, String kind, String slot) {
    return Attributes.builder()
        .put("db.system.name", "redis")
        .put("server.address", "127.0.0.1")
        .put("server.port", (long) target.port())
        .put("redis.client.cluster.redirect.kind", kind)
        .put("redis.client.cluster.slot", Long.parseLong(slot))
        .build();
  }

  @Test
  void redirectsAndTheTopologyChangeAreRecordsWithSlotAndTarget() throws Exception {
    RedisClusterClient client =
        RedisClusterClient.create(RedisURI.create("127.0.0.1", cluster.nodes().get(0).port()));
    String moved = "events-moved";
    String asked = "events-asked";
    RedisServer movedFrom = cluster.nodeFor(moved);
    RedisServer movedTo = another(movedFrom);
    RedisServer askedFrom = cluster.nodeFor(asked);
    RedisServer askedTo = another(askedFrom);
    try (StatefulRedisClusterConnection<String, String> conn = client.connect()) {
      RedisAdvancedClusterCommands<String, String> sync = conn.sync();
      assertThat(sync.get(moved)).isNull(); // connects to the owner
      assertThat(sync.get(asked)).isNull();
      TestTelemetry.reset();

      // the (empty) slot moves to another node; the client still routes by its old map
      String slot = slot(moved);
      List<RedisServer> newOwnerFirst = new ArrayList<>(List.of(movedTo, movedFrom));
      cluster.nodes().stream().filter(n -> !newOwnerFirst.contains(n)).forEach(newOwnerFirst::add);
      for (RedisServer n : newOwnerFirst) {
        assertThat(n.command("CLUSTER", "SETSLOT", slot, "NODE", id(movedTo))).isEqualTo("+OK");
      }
      assertThat(sync.get(moved)).isNull(); // answered by the new owner after MOVED
      assertThat(awaitRecords("redis.client.cluster.redirect", 1)).hasSize(1);
      assertThat(records("redis.client.cluster.redirect").get(0).getAttributes())
          .isEqualTo(redirect(movedTo, "MOVED", slot));

      // a slot being migrated: the old owner answers ASK for a key it no longer has
      String askSlot = slot(asked);
      assertThat(askedTo.command("CLUSTER", "SETSLOT", askSlot, "IMPORTING", id(askedFrom))).isEqualTo("+OK");
      assertThat(askedFrom.command("CLUSTER", "SETSLOT", askSlot, "MIGRATING", id(askedTo))).isEqualTo("+OK");
      assertThat(sync.get(asked)).isNull();
      assertThat(awaitRecords("redis.client.cluster.redirect", 2)).hasSize(2);
      assertThat(records("redis.client.cluster.redirect").get(1).getAttributes())
          .isEqualTo(redirect(askedTo, "ASK", askSlot));

      // the client loads the new map: same three nodes, slots moved (Lettuce 6.1 may have
      // refreshed after the MOVED on its own already: then that was the one change)
      TestTelemetry.sleep(500);
      int connectionEvents = connectionEvents();
      client.refreshPartitions();
      assertThat(awaitRecords("redis.client.cluster.topology_changed", 1)).hasSize(1);
      TestTelemetry.sleep(500);
      // the refresh's own short-lived connections to every node are the client's traffic
      assertThat(connectionEvents()).isEqualTo(connectionEvents);
      assertThat(records("redis.client.cluster.topology_changed").get(0).getAttributes())
          .isEqualTo(
              Attributes.builder()
                  .put("db.system.name", "redis")
                  .put("redis.client.cluster.nodes", 3L)
                  .put("redis.client.cluster.nodes.added", 0L)
                  .put("redis.client.cluster.nodes.removed", 0L)
                  .build());
      for (RedisServer n : List.of(askedTo, askedFrom)) {
        n.command("CLUSTER", "SETSLOT", askSlot, "STABLE");
      }
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }
}
