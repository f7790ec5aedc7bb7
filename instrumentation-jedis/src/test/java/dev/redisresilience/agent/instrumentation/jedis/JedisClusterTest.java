package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisCluster;
import dev.redisresilience.harness.RedisServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisCluster;

/** JedisCluster against a real 3-node cluster: one span per operation, on the owning node. */
class JedisClusterTest {
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

  @BeforeEach
  void reset() {
    cluster.flushAll();
    TestTelemetry.reset();
  }

  @Test
  void eachOperationIsOneSpanOnTheNodeThatOwnsTheKey() {
    Set<HostAndPort> seeds = new HashSet<>();
    seeds.add(new HostAndPort("127.0.0.1", cluster.nodes().get(0).port()));
    String[] keys = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"};
    try (JedisCluster jc = new JedisCluster(seeds)) {
      TestTelemetry.reset(); // slot discovery happened in the constructor: internal anyway
      for (String k : keys) {
        jc.set(k, "v-" + k);
      }
      for (String k : keys) {
        assertThat(jc.get(k)).isEqualTo("v-" + k);
      }
    }
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(spans).hasSize(2 * keys.length);
    Set<Long> nodesUsed = new HashSet<>();
    for (int i = 0; i < spans.size(); i++) {
      SpanData s = spans.get(i);
      String key = keys[i % keys.length];
      RedisServer owner = cluster.nodeFor(key);
      assertThat(s.getName()).isEqualTo((i < keys.length ? "SET" : "GET") + " 127.0.0.1:" + owner.port());
      assertThat(s.getAttributes().get(PORT)).isEqualTo((long) owner.port());
      assertThat(s.getAttributes().get(AttributeKey.stringKey("error.type"))).isNull();
      nodesUsed.add((long) owner.port());
    }
    assertThat(nodesUsed).hasSizeGreaterThan(1); // the keys really are spread
  }
}
