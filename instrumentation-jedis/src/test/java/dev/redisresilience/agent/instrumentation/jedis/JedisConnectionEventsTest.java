package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.Ports;
import dev.redisresilience.harness.RedisServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;

/**
 * The connection events Lettuce reports, as log records for Jedis too: a connect that failed, a
 * connection the agent replaced (broken, or failing its health check), an outage restored.
 */
class JedisConnectionEventsTest {
  static final String HOST = "127.0.0.1";
  static final AttributeKey<Long> PORT = AttributeKey.longKey("server.port");
  RedisServer server;

  @BeforeEach
  void start() {
    server = RedisServer.start();
    TestTelemetry.reset();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  static List<LogRecordData> records(int port) {
    return TestTelemetry.logs().stream()
        .filter(l -> Long.valueOf(port).equals(l.getAttributes().get(PORT)))
        .collect(Collectors.toList());
  }

  static List<String> names(int port) {
    return records(port).stream().map(LogRecordData::getEventName).collect(Collectors.toList());
  }

  static Attributes serverAttributes(int port) {
    return Attributes.builder()
        .put("db.system.name", "redis")
        .put("server.address", HOST)
        .put("server.port", (long) port)
        .build();
  }

  static long suppressed(int port, String event) {
    return TestTelemetry.counter(
        "redis.client.events.suppressed",
        TestTelemetry.attr("server.port", port).and(TestTelemetry.attr("event.name", event)));
  }

  @Test
  void aBrokenPooledConnectionIsReplacedByThePool() throws Exception {
    try (UnifiedJedis pooled = UnifiedClients.pooled(HOST, server.port())) {
      pooled.set("k", "v");
      assertThat(server.command("CLIENT", "KILL", "TYPE", "normal")).isEqualTo(":1");
      // reset: the pool discards the broken connection, the retry runs on a new one
      assertThat(pooled.get("k")).isEqualTo("v");
    }
    assertThat(names(server.port())).containsExactly("redis.client.connection.replaced");
    assertThat(records(server.port()).get(0).getAttributes())
        .isEqualTo(
            serverAttributes(server.port()).toBuilder()
                .put("redis.client.connection.replace.reason", "broken")
                .build());
  }

  @Test
  void anIdleConnectionFailingItsHealthCheckIsReplaced() throws Exception {
    try (PolicyOverride p = PolicyOverride.with("health-check.interval", "100ms");
        Jedis jedis = new Jedis(HOST, server.port())) {
      jedis.set("n", "1");
      assertThat(server.command("CLIENT", "KILL", "TYPE", "normal")).isEqualTo(":1");
      TestTelemetry.sleep(250);
      assertThat(jedis.incr("n")).isEqualTo(2); // INCR is not retried: the check replaced it first
    }
    assertThat(names(server.port())).containsExactly("redis.client.connection.replaced");
    assertThat(records(server.port()).get(0).getAttributes())
        .isEqualTo(
            serverAttributes(server.port()).toBuilder()
                .put("redis.client.connection.replace.reason", "health_check")
                .build());
    assertThat(records(server.port()).get(0).getBodyValue().asString())
        .isEqualTo("connection to " + HOST + ":" + server.port() + " replaced (health_check)");
  }

  @Test
  void failedConnectsAreRecordsUpToTheRateLimitAndTheRestCounted() {
    int closed = Ports.free();
    long suppressedBefore = suppressed(closed, "redis.client.connection.failed");
    try (PolicyOverride p =
            PolicyOverride.with("retry.backoff.base", "1ms", "retry.budget.tokens", "0", "retry.max-attempts", "4");
        Jedis jedis = new Jedis(HOST, closed)) {
      for (int i = 0; i < 3; i++) {
        assertThatThrownBy(() -> jedis.incr("k")).isInstanceOf(JedisConnectionException.class);
      }
    }
    List<LogRecordData> failed =
        records(closed).stream()
            .filter(l -> l.getEventName().equals("redis.client.connection.failed"))
            .collect(Collectors.toList());
    // 3 operations x 4 connect attempts within far less than a second: 5 records, 7 suppressed
    assertThat(failed).hasSize(5);
    assertThat(suppressed(closed, "redis.client.connection.failed") - suppressedBefore).isEqualTo(7);
    assertThat(failed.get(0).getAttributes())
        .isEqualTo(serverAttributes(closed).toBuilder().put("error.type", "connection").build());
    assertThat(names(closed)).containsOnlyOnce("redis.client.connection.down");
  }

  @Test
  void anOutageIsFailedConnectsThenRestoredWithItsDowntime() {
    try (PolicyOverride p = PolicyOverride.with("retry.backoff.base", "1ms", "retry.max-attempts", "2");
        Jedis jedis = new Jedis(HOST, server.port())) {
      jedis.set("k", "v");
      server.kill9();
      assertThatThrownBy(() -> jedis.get("k")).isInstanceOf(JedisConnectionException.class);
      server.startProcess();
      assertThat(jedis.get("k")).isNull(); // a fresh server
    }
    List<String> names = names(server.port());
    assertThat(names.get(0)).isEqualTo("redis.client.connection.down");
    assertThat(names.get(1)).isEqualTo("redis.client.connection.failed");
    // the connection that brought the server back is the agent's in-place replacement
    assertThat(names.subList(names.size() - 2, names.size()))
        .containsExactly("redis.client.connection.restored", "redis.client.connection.replaced");
    assertThat(names).containsOnlyOnce("redis.client.connection.restored", "redis.client.connection.replaced");
    assertThat(names.stream().filter("redis.client.connection.failed"::equals).count()).isBetween(1L, 5L);
    LogRecordData restored = records(server.port()).get(names.size() - 2);
    assertThat(restored.getAttributes().get(AttributeKey.doubleKey("redis.client.connection.downtime")))
        .isGreaterThan(0.0);
  }
}
