package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.Ports;
import dev.redisresilience.harness.RedisServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.JedisPoolConfig;
import redis.clients.jedis.exceptions.JedisConnectionException;

/** Timeouts, retries and health checks on Jedis against a real redis-server (no proxy). */
class JedisResilienceTest {
  static RedisServer server;
  static final String HOST = "127.0.0.1";
  static final AttributeKey<String> ERROR = AttributeKey.stringKey("error.type");
  static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("redis.client.operation.attempts");

  @BeforeAll
  static void start() {
    server = RedisServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @BeforeEach
  void reset() {
    server.flushAll();
    TestTelemetry.reset();
  }

  static long metric(String name, String key, String value) {
    return TestTelemetry.counter(name, TestTelemetry.attr(key, value));
  }

  @Test
  void blockingCommandIsNotCutByTheCommandTimeout() {
    try (PolicyOverride p = PolicyOverride.with("timeout.command", "300ms", "timeout.blocking-margin", "500ms");
        Jedis jedis = new Jedis(HOST, server.port())) {
      long t0 = System.nanoTime();
      List<String> popped = jedis.blpop(1, "nothing-here");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(popped).isNull();
      assertThat(ms).isGreaterThanOrEqualTo(900); // waited its whole block time, no timeout
      // and the connection keeps the 300ms command timeout for what follows
      assertThat(jedis.getConnection().getSoTimeout()).isEqualTo(300);
      assertThat(jedis.ping()).isEqualTo("PONG");
    }
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(spans).hasSize(2);
    assertThat(spans.get(0).getAttributes().get(ERROR)).isNull();
  }

  @Test
  void blockingCommandIsNotInfiniteWhenItBlocksForAFiniteTime() {
    // the server is paused (CLIENT PAUSE) so BLPOP 1 cannot answer: it must time out at 1s+margin
    try (PolicyOverride p = PolicyOverride.with("timeout.blocking-margin", "300ms", "retry.max-attempts", "1");
        Jedis jedis = new Jedis(HOST, server.port());
        Jedis admin = new Jedis(HOST, server.port())) {
      jedis.ping();
      admin.clientPause(3000);
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> jedis.blpop(1, "nothing-here")).isInstanceOf(JedisConnectionException.class);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(ms).isBetween(1200L, 2900L);
    }
    TestTelemetry.sleep(3200); // let the pause end before the next test
    assertThat(metric("redis.client.timeouts", "redis.client.timeout.kind", "blocking")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void commandTimeoutIsAppliedToEveryConnection() {
    try (PolicyOverride p = PolicyOverride.with("timeout.command", "750ms");
        Jedis legacy = new Jedis(HOST, server.port(), 10_000);
        JedisPool pool = new JedisPool(new JedisPoolConfig(), HOST, server.port(), 60_000)) {
      legacy.ping();
      assertThat(legacy.getConnection().getSoTimeout()).isEqualTo(750); // capped
      try (Jedis j = pool.getResource()) {
        j.ping();
        assertThat(j.getConnection().getSoTimeout()).isEqualTo(750);
      }
    }
    try (Jedis fast = new Jedis(HOST, server.port(), 100)) {
      fast.ping();
      assertThat(fast.getConnection().getSoTimeout()).isEqualTo(100); // lower than ours: kept
    }
  }

  @Test
  void connectFailuresAreRetriedEvenForNonIdempotentCommands() {
    int closed = Ports.free();
    long before = metric("redis.client.retries", "redis.client.retry.outcome", "failure");
    try (PolicyOverride p = PolicyOverride.with("retry.backoff.base", "1ms", "retry.budget.tokens", "0");
        Jedis jedis = new Jedis(HOST, closed)) {
      assertThatThrownBy(() -> jedis.incr("k")).isInstanceOf(JedisConnectionException.class);
    }
    SpanData span = TestTelemetry.spans().get(0);
    assertThat(span.getAttributes().get(ERROR)).isEqualTo("connection");
    assertThat(span.getAttributes().get(ATTEMPTS)).isEqualTo(4L);
    List<EventData> events = span.getEvents();
    assertThat(events).extracting(EventData::getName).containsExactly(
        "redis.client.retry", "redis.client.retry", "redis.client.retry", "redis.client.retry.refused");
    assertThat(events.get(0).getAttributes().get(AttributeKey.longKey("redis.client.retry.attempt"))).isEqualTo(2L);
    assertThat(events.get(3).getAttributes().get(AttributeKey.stringKey("redis.client.retry.refusal")))
        .isEqualTo("attempts_exhausted");
    assertThat(metric("redis.client.retries", "redis.client.retry.outcome", "failure") - before).isEqualTo(3);
  }

  @Test
  void idleConnectionIsHealthCheckedAndReplacedWithoutFailingTheCommand() {
    long checksBefore = metric("redis.client.health_checks", "redis.client.health_check.outcome", "failure");
    long reconnectsBefore = metric("redis.client.reconnects", "redis.client.reconnect.outcome", "success");
    try (PolicyOverride p = PolicyOverride.with("health-check.interval", "100ms");
        Jedis jedis =
            new Jedis(
                new HostAndPort(HOST, server.port()),
                DefaultJedisClientConfig.builder().clientName("victim").database(2).build());
        Jedis admin = new Jedis(HOST, server.port())) {
      jedis.set("k", "1");
      // the server drops the idle connection (as a restart or an idle timeout would)
      assertThat(admin.clientKill(redis.clients.jedis.params.ClientKillParams.clientKillParams()
          .skipMe(redis.clients.jedis.params.ClientKillParams.SkipMe.YES)
          .type(redis.clients.jedis.args.ClientType.NORMAL))).isGreaterThanOrEqualTo(1L);
      TestTelemetry.sleep(200);
      // INCR would not be retried after an unknown outcome: the health check must catch it first
      assertThat(jedis.incr("n")).isEqualTo(1L);
      assertThat(jedis.get("k")).isEqualTo("1"); // still database 2: the handshake was repeated
      assertThat(jedis.clientGetname()).isEqualTo("victim");
    }
    assertThat(metric("redis.client.health_checks", "redis.client.health_check.outcome", "failure") - checksBefore)
        .isEqualTo(1);
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(spans.stream().filter(s -> s.getName().startsWith("INCR")).findFirst().get().getAttributes().get(ERROR))
        .isNull();
    assertThat(metric("redis.client.reconnects", "redis.client.reconnect.outcome", "success") - reconnectsBefore)
        .isEqualTo(1);
  }

  @Test
  void reconnectReturnsToTheDatabaseTheApplicationSelected() {
    AttributeKey<String> namespace = AttributeKey.stringKey("db.namespace");
    try (PolicyOverride p = PolicyOverride.with("health-check.interval", "100ms");
        Jedis configured =
            new Jedis(new HostAndPort(HOST, server.port()), DefaultJedisClientConfig.builder().database(2).build());
        Jedis plain = new Jedis(HOST, server.port());
        Jedis admin = new Jedis(HOST, server.port())) {
      configured.select(5); // after the handshake's SELECT 2
      configured.set("a", "in-5");
      plain.select(7); // no handshake at all: a new socket starts in database 0
      plain.set("b", "in-7");
      admin.clientKill(redis.clients.jedis.params.ClientKillParams.clientKillParams()
          .skipMe(redis.clients.jedis.params.ClientKillParams.SkipMe.YES)
          .type(redis.clients.jedis.args.ClientType.NORMAL));
      TestTelemetry.sleep(200);
      TestTelemetry.reset();
      // both connections are replaced before these run, and must be back where the app left them
      assertThat(configured.get("a")).isEqualTo("in-5");
      assertThat(plain.get("b")).isEqualTo("in-7");
      configured.set("c", "written-after-reconnect");
      admin.select(5);
      assertThat(admin.get("c")).isEqualTo("written-after-reconnect");
      assertThat(configured.getDB()).isEqualTo(5);
    }
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(spans).extracting(s -> s.getName().substring(0, s.getName().indexOf(' ')))
        .containsExactly("GET", "GET", "SET", "SELECT", "GET");
    assertThat(spans.get(0).getAttributes().get(namespace)).isEqualTo("5");
    assertThat(spans.get(1).getAttributes().get(namespace)).isEqualTo("7");
    assertThat(spans.get(2).getAttributes().get(namespace)).isEqualTo("5");
  }
}
