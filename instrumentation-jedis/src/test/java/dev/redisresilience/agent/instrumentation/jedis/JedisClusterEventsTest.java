package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisCluster;
import dev.redisresilience.harness.RedisServer;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisCluster;

/** JedisCluster's MOVED and ASK redirects as the same records Lettuce's are, on a real cluster. */
class JedisClusterEventsTest {
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

  static List<LogRecordData> redirects() {
    return TestTelemetry.logs().stream()
        .filter(l -> "redis.client.cluster.redirect".equals(l.getEventName()))
        .collect(Collectors.toList());
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
  void movedAndAskRedirectsAreRecordsWithSlotAndTarget() throws Exception {
    String moved = "jedis-events-moved";
    String asked = "jedis-events-asked";
    RedisServer movedFrom = cluster.nodeFor(moved);
    RedisServer movedTo = another(movedFrom);
    RedisServer askedFrom = cluster.nodeFor(asked);
    RedisServer askedTo = another(askedFrom);
    try (JedisCluster jc =
        new JedisCluster(Set.of(new HostAndPort("127.0.0.1", cluster.nodes().get(0).port())))) {
      assertThat(jc.get(moved)).isNull();
      TestTelemetry.reset();

      String slot = slot(moved);
      List<RedisServer> newOwnerFirst = new ArrayList<>(List.of(movedTo, movedFrom));
      cluster.nodes().stream().filter(n -> !newOwnerFirst.contains(n)).forEach(newOwnerFirst::add);
      for (RedisServer n : newOwnerFirst) {
        assertThat(n.command("CLUSTER", "SETSLOT", slot, "NODE", id(movedTo))).isEqualTo("+OK");
      }
      assertThat(jc.get(moved)).isNull(); // MOVED: Jedis renews its slot map and follows
      assertThat(redirects()).hasSize(1);
      assertThat(redirects().get(0).getAttributes()).isEqualTo(redirect(movedTo, "MOVED", slot));

      String askSlot = slot(asked);
      assertThat(askedTo.command("CLUSTER", "SETSLOT", askSlot, "IMPORTING", id(askedFrom))).isEqualTo("+OK");
      assertThat(askedFrom.command("CLUSTER", "SETSLOT", askSlot, "MIGRATING", id(askedTo))).isEqualTo("+OK");
      assertThat(jc.get(asked)).isNull(); // ASK: asked again on the importing node
      assertThat(redirects()).hasSize(2);
      assertThat(redirects().get(1).getAttributes()).isEqualTo(redirect(askedTo, "ASK", askSlot));
      for (RedisServer n : List.of(askedTo, askedFrom)) {
        n.command("CLUSTER", "SETSLOT", askSlot, "STABLE");
      }
    }
  }
}
