package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisCluster;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** RedisClusterClient against a real 3-node cluster: spans on the owning node, no topology noise. */
class LettuceClusterTest {
  static RedisCluster cluster;
  static final AttributeKey<Long> PORT = AttributeKey.longKey("server.port");

  @BeforeAll
  static void start() {
    cluster = RedisCluster.start(3);
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void eachCommandIsOneSpanOnTheNodeThatOwnsTheKey() {
    RedisClusterClient client =
        RedisClusterClient.create(RedisURI.create("127.0.0.1", cluster.nodes().get(0).port()));
    String[] keys = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"};
    try (StatefulRedisClusterConnection<String, String> conn = client.connect()) {
      RedisAdvancedClusterCommands<String, String> sync = conn.sync();
      sync.get("warm-up"); // opens the node connections
      TestTelemetry.sleep(200);
      TestTelemetry.reset();
      for (String k : keys) {
        sync.set(k, "v-" + k);
      }
      for (String k : keys) {
        assertThat(sync.get(k)).isEqualTo("v-" + k);
      }
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    List<SpanData> spans = TestTelemetry.awaitSpans(2 * keys.length, Duration.ofSeconds(5));
    assertThat(spans).hasSize(2 * keys.length);
    Set<Long> nodesUsed = new HashSet<>();
    for (int i = 0; i < 2 * keys.length; i++) {
      String key = keys[i % keys.length];
      String op = i < keys.length ? "SET" : "GET";
      // a sync call may return before its span is recorded on its node's event loop, so the
      // next command's span (another node, another thread) can come first: find it by its text
      String text = op + " " + key + (i < keys.length ? " ?" : "");
      SpanData s =
          spans.stream()
              .filter(x -> text.equals(x.getAttributes().get(AttributeKey.stringKey("db.query.text"))))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no span " + text + " in " + spans));
      RedisServer owner = cluster.nodeFor(key);
      assertThat(s.getName()).isEqualTo(op + " 127.0.0.1:" + owner.port());
      assertThat(s.getAttributes().get(PORT)).isEqualTo((long) owner.port());
      nodesUsed.add((long) owner.port());
    }
    assertThat(nodesUsed).hasSizeGreaterThan(1);
  }

  /**
   * The node that owns the key stops answering for 1.5 s (CLIENT PAUSE) while each attempt may
   * take 500 ms: the agent retries the GET, routed by slot to the same node again, until the
   * node answers; stale replies of the given-up attempts do not reach the next commands.
   */
  @Test
  void aTimedOutCommandIsRetriedOnTheNodeThatOwnsItsSlot() throws Exception {
    try (PolicyOverride p = PolicyOverride.with("timeout.command", "500ms")) {
      RedisClusterClient client =
          RedisClusterClient.create(RedisURI.create("127.0.0.1", cluster.nodes().get(0).port()));
      try (StatefulRedisClusterConnection<String, String> conn = client.connect()) {
        RedisAdvancedClusterCommands<String, String> sync = conn.sync();
        sync.set("paused-key", "v");
        sync.set("other-key", "w");
        TestTelemetry.sleep(200);
        TestTelemetry.reset();
        RedisServer owner = cluster.nodeFor("paused-key");
        owner.command("CLIENT", "PAUSE", "1500");
        long t0 = System.nanoTime();
        assertThat(conn.async().get("paused-key").get(30, TimeUnit.SECONDS)).isEqualTo("v");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(ms).as("answered once the pause ended, by a later attempt").isGreaterThanOrEqualTo(1000L);
        SpanData get =
            TestTelemetry.awaitSpans(1, Duration.ofSeconds(5)).stream()
                .filter(x -> "GET paused-key".equals(x.getAttributes().get(AttributeKey.stringKey("db.query.text"))))
                .findFirst()
                .orElseThrow();
        assertThat(get.getAttributes().get(AttributeKey.longKey("redis.client.operation.attempts")))
            .isGreaterThanOrEqualTo(2L);
        assertThat(get.getAttributes().get(AttributeKey.stringKey("error.type"))).isNull();
        assertThat(get.getAttributes().get(PORT)).isEqualTo((long) owner.port());
        TestTelemetry.sleep(500); // the paused node's late replies arrive
        assertThat(sync.get("paused-key")).isEqualTo("v");
        assertThat(sync.get("other-key")).isEqualTo("w");
      } finally {
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      }
    }
  }

  @Test
  void idleNodeConnectionsAreHealthChecked() throws Exception {
    RedisClusterClient client =
        RedisClusterClient.create(RedisURI.create("127.0.0.1", cluster.nodes().get(0).port()));
    try (PolicyOverride p = PolicyOverride.with("health-check.interval", "200ms");
        StatefulRedisClusterConnection<String, String> conn = client.connect()) {
      for (String k : new String[] {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}) {
        conn.sync().set(k, "v"); // these keys are spread over all three nodes
      }
      TestTelemetry.awaitSpans(6, Duration.ofSeconds(5));
      TestTelemetry.reset();
      for (RedisServer node : cluster.nodes()) {
        node.command("CONFIG", "RESETSTAT");
      }
      TestTelemetry.sleep(1_500);
      for (RedisServer node : cluster.nodes()) {
        // each node connection is PINGed about every 200 ms: 2 in 1.5 s even on a busy machine
        assertThat(LettuceHealthCheckTest.pings(node))
            .as("PINGs on node %d", node.port())
            .isGreaterThanOrEqualTo(2);
        assertThat(
                TestTelemetry.counter(
                    "redis.client.health_checks",
                    TestTelemetry.attr("server.port", node.port())
                        .and(TestTelemetry.attr("redis.client.health_check.outcome", "success"))))
            .isPositive();
      }
      assertThat(TestTelemetry.spans()).isEmpty();
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }
}
