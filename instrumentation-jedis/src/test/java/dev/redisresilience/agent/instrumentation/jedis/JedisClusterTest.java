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

  /** Busy for about 600 ms on the server, like a slow command ahead in the queue. */
  static final String BUSY_600MS =
      "local t = redis.call('TIME') local s = t[1] * 1000000 + t[2] "
          + "while true do local n = redis.call('TIME') if n[1] * 1000000 + n[2] - s > 600000 then break end end "
          + "return 1";

  /**
   * jedis#3187 at the data level: the owner of the key is busy, so the INCR is read-timed-out
   * but then executed; JedisCluster re-sends it on a new connection and it runs twice. With the
   * agent the re-send is vetoed — also when retry.on does not list timeouts (then the agent used
   * to read "not retryable" as "not my decision"). One key per INCR, counted on the server.
   */
  @Test
  void clusterNeverRunsAnIncrTwiceWhoseOutcomeIsUnknown() throws Exception {
    int rounds = 5;
    int vetoed = 0;
    try (PolicyOverride p = PolicyOverride.with("retry.on", "LOADING", "retry.budget.tokens", "0");
        JedisCluster jc = clusterClient(300, 3, 1500)) {
      for (int i = 0; i < rounds; i++) {
        jc.set("incr-" + i, "0"); // a pooled connection to every owner: the INCR is sent at once
      }
      for (int i = 0; i < rounds; i++) {
        String key = "incr-" + i;
        RedisServer owner = cluster.nodeFor(key);
        Thread busy = new Thread(() -> {
          try {
            owner.command("EVAL", BUSY_600MS, "0");
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
        busy.start();
        TestTelemetry.sleep(100); // the script runs: the INCR waits behind it
        try {
          jc.incr(key);
        } catch (JedisClusterOperationException e) {
          assertThat(e).hasMessageContaining("outcome of INCR unknown after timeout");
          vetoed++;
        }
        busy.join();
        TestTelemetry.sleep(100); // whatever was queued behind the script has run now
        assertThat(owner.getLong(key)).as("times INCR %s ran", key).isEqualTo(1);
      }
    }
    // each round whose INCR was timed out behind the script was vetoed; a round where the INCR got
    // in before the script simply succeeded (a busy machine): at least one must show the case
    assertThat(vetoed).isGreaterThanOrEqualTo(1);
  }

  /**
   * Jedis' own loop keeps its own limits (maxAttempts, deadline) and the agent adds no retries
   * and no waits on top: a GET that times out is retried by Jedis alone, within its deadline.
   */
  @Test
  void clusterRetriesAreJedisOwnNotMultiplied() throws Exception {
    RedisServer owner = cluster.nodeFor("counter");
    try (PolicyOverride p = PolicyOverride.with("retry.budget.tokens", "0");
        JedisCluster jc = clusterClient(300, 3, 900)) {
      jc.set("counter", "0");
      TestTelemetry.reset();
      owner.command("CLIENT", "PAUSE", "5000", "ALL"); // a GET: Jedis may retry it, within its 3
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> jc.get("counter")).isInstanceOf(JedisClusterOperationException.class);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      owner.command("CLIENT", "UNPAUSE");
      // Jedis' deadline is 900ms; its last attempt may start just before it (a 300ms timeout)
      assertThat(ms).isLessThan(900 + 300 + 300);
    }
    List<SpanData> spans = TestTelemetry.spans();
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
  }

  private static JedisCluster clusterClient(int timeoutMillis, int attempts, int deadlineMillis) {
    Set<HostAndPort> seeds = new HashSet<>();
    seeds.add(new HostAndPort("127.0.0.1", cluster.nodes().get(0).port()));
    return new JedisCluster(
        seeds,
        redis.clients.jedis.DefaultJedisClientConfig.builder().timeoutMillis(timeoutMillis).build(),
        attempts, // Jedis' own attempts
        java.time.Duration.ofMillis(deadlineMillis)); // Jedis' own deadline
  }
}
