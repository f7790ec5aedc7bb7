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
import dev.redisresilience.agent.testing.PolicyOverride;
import redis.clients.jedis.exceptions.JedisClusterOperationException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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

  /**
   * jedis#3187: JedisCluster re-runs a command after a read timeout, so an INCR can apply twice.
   * With the agent, Jedis' own loop keeps its own limits (maxAttempts, deadline) and the agent
   * adds no retries on top; it stops the unsafe one: the INCR fails with a classified exception
   * instead of being sent again.
   */
  @Test
  void clusterRetriesAreGatedNotMultiplied() throws Exception {
    Set<HostAndPort> seeds = new HashSet<>();
    seeds.add(new HostAndPort("127.0.0.1", cluster.nodes().get(0).port()));
    RedisServer owner = cluster.nodeFor("counter");
    long delegatedBefore = TestTelemetry.counter("redis.client.retries", TestTelemetry.attr("redis.client.retry.outcome", "delegated"));
    try (PolicyOverride p = PolicyOverride.with("retry.budget.tokens", "0");
        JedisCluster jc =
            new JedisCluster(
                seeds,
                redis.clients.jedis.DefaultJedisClientConfig.builder().timeoutMillis(300).build(),
                3, // Jedis' own attempts
                java.time.Duration.ofMillis(900))) { // Jedis' own deadline (its default: 3 x 300ms)
      jc.set("counter", "0");
      TestTelemetry.reset();
      owner.command("CLIENT", "PAUSE", "1500", "ALL"); // the INCR will be read-timed-out
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> jc.incr("counter"))
          .isInstanceOf(JedisClusterOperationException.class)
          .hasMessageContaining("outcome of INCR unknown after timeout; not retried: the command is not idempotent");
      assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(1400); // not waiting out the pause
      owner.command("CLIENT", "UNPAUSE");
      // Jedis closed the timed-out connection during the pause, so Redis dropped the INCR; the
      // point is that nothing sent it again (without the agent Jedis' loop would)
      assertThat(jc.get("counter")).isEqualTo("0");

      owner.command("CLIENT", "PAUSE", "5000", "ALL"); // a GET: Jedis may retry it, within its 3
      assertThatThrownBy(() -> jc.get("counter")).isInstanceOf(JedisClusterOperationException.class);
      owner.command("CLIENT", "UNPAUSE");
    }
    List<SpanData> spans = TestTelemetry.spans();
    SpanData incr = spans.stream().filter(x -> x.getName().startsWith("INCR")).findFirst().get();
    assertThat(incr.getAttributes().get(AttributeKey.stringKey("error.type"))).isEqualTo("timeout");
    assertThat(incr.getAttributes().get(AttributeKey.longKey("redis.client.operation.attempts"))).isNull();
    assertThat(incr.getEvents()).extracting(e -> e.getAttributes().get(AttributeKey.stringKey("redis.client.retry.refusal")))
        .containsExactly("not_idempotent");
    SpanData get =
        spans.stream().filter(x -> x.getName().startsWith("GET") && x.getStatus().getStatusCode()
            == io.opentelemetry.api.trace.StatusCode.ERROR).findFirst().get();
    // Jedis' loop decides how often (its 3 attempts, its deadline; some of its retries fail while
    // getting a connection, before reaching the server): never more than its 3, none added
    Long recorded = get.getAttributes().get(AttributeKey.longKey("redis.client.operation.attempts"));
    long attempts = recorded == null ? 1 : recorded;
    assertThat(attempts).as(get.toString()).isBetween(1L, 3L);
    assertThat(get.getAttributes().get(AttributeKey.stringKey("error.type"))).isEqualTo("timeout");
    assertThat(get.getEvents())
        .isNotEmpty()
        .allSatisfy(e -> assertThat(e.getName()).isEqualTo("redis.client.retry"));
    assertThat(
            TestTelemetry.counter("redis.client.retries", TestTelemetry.attr("redis.client.retry.outcome", "delegated"))
                - delegatedBefore)
        .isEqualTo(get.getEvents().size());
  }
}
