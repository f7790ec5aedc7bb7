package dev.redisresilience.agent.instrumentation.jedis;

import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.assertThat;
import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.equalTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redisresilience.agent.telemetry.AgentFaults;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.Ports;
import dev.redisresilience.harness.RedisServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.JedisPoolConfig;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.args.Rawable;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Level-2 agent test: the real AgentBuilder in this JVM, Jedis against a real redis-server, the
 * SDK's in-memory exporters. Runs once per Jedis version (see the surefire executions).
 */
class JedisOperationsTest {
  static RedisServer server;
  static final String HOST = "127.0.0.1";

  static final AttributeKey<String> SYSTEM = AttributeKey.stringKey("db.system.name");
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("db.operation.name");
  static final AttributeKey<String> NAMESPACE = AttributeKey.stringKey("db.namespace");
  static final AttributeKey<String> QUERY = AttributeKey.stringKey("db.query.text");
  static final AttributeKey<String> ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<String> PEER = AttributeKey.stringKey("network.peer.address");
  static final AttributeKey<Long> PEER_PORT = AttributeKey.longKey("network.peer.port");
  static final AttributeKey<String> ERROR = AttributeKey.stringKey("error.type");
  static final AttributeKey<String> STATUS = AttributeKey.stringKey("db.response.status_code");
  static final AttributeKey<Long> BATCH = AttributeKey.longKey("db.operation.batch.size");

  @BeforeAll
  static void startRedis() {
    server = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    server.close();
  }

  @BeforeEach
  void reset() {
    server.flushAll();
    TestTelemetry.reset();
  }

  int port() {
    return server.port();
  }

  UnifiedJedis unified() {
    return UnifiedClients.pooled(HOST, port());
  }

  List<String> names(List<SpanData> spans) {
    return spans.stream().map(SpanData::getName).collect(Collectors.toList());
  }

  @Test
  void legacyJedisOperationsAreOneSpanEachWithExactAttributes() {
    long before = TestTelemetry.durationCount(TestTelemetry.any());
    try (Jedis jedis = new Jedis(HOST, port())) {
      jedis.set("k", "secret-value");
      assertThat(jedis.get("k")).isEqualTo("secret-value");
      assertThat(jedis.incr("n")).isEqualTo(1L);
      assertThat(jedis.ping()).isEqualTo("PONG");
    }
    List<SpanData> spans = TestTelemetry.spans();
    String hp = " " + HOST + ":" + port();
    assertThat(names(spans)).containsExactly("SET" + hp, "GET" + hp, "INCR" + hp, "PING" + hp);
    assertThat(spans.get(0))
        .hasKind(SpanKind.CLIENT)
        .hasStatus(io.opentelemetry.sdk.trace.data.StatusData.unset())
        .hasAttributesSatisfyingExactly(
            equalTo(SYSTEM, "redis"),
            equalTo(OPERATION, "SET"),
            equalTo(NAMESPACE, "0"),
            equalTo(QUERY, "SET k ?"),
            equalTo(ADDRESS, HOST),
            equalTo(PORT, (long) port()),
            equalTo(PEER, "127.0.0.1"),
            equalTo(PEER_PORT, (long) port()));
    assertThat(spans.get(3))
        .hasAttributesSatisfyingExactly(
            equalTo(SYSTEM, "redis"),
            equalTo(OPERATION, "PING"),
            equalTo(NAMESPACE, "0"),
            equalTo(QUERY, "PING"),
            equalTo(ADDRESS, HOST),
            equalTo(PORT, (long) port()),
            equalTo(PEER, "127.0.0.1"),
            equalTo(PEER_PORT, (long) port()));
    assertThat(TestTelemetry.durationCount(TestTelemetry.any()) - before).isEqualTo(4);
    assertThat(
            TestTelemetry.durationCount(
                TestTelemetry.attr("db.operation.name", "GET")
                    .and(TestTelemetry.attr("server.port", port()))
                    .and(TestTelemetry.attr("db.namespace", "0"))
                    .and(a -> a.size() == 5)))
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  void selectChangesTheNamespaceOfLaterOperations() {
    try (Jedis jedis = new Jedis(HOST, port())) {
      jedis.select(4);
      jedis.set("k", "v");
    }
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(spans).hasSize(2);
    assertThat(spans.get(0).getAttributes().get(NAMESPACE)).isEqualTo("0");
    assertThat(spans.get(0).getAttributes().get(OPERATION)).isEqualTo("SELECT");
    assertThat(spans.get(1).getAttributes().get(NAMESPACE)).isEqualTo("4");
  }

  @Test
  void databaseFromClientConfigIsTheNamespace() {
    try (Jedis jedis =
        new Jedis(
            new HostAndPort(HOST, port()),
            redis.clients.jedis.DefaultJedisClientConfig.builder().database(3).build())) {
      jedis.set("k", "v");
    }
    // the handshake's SELECT is the client's own traffic: one span only
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(names(spans)).containsExactly("SET " + HOST + ":" + port());
    assertThat(spans.get(0).getAttributes().get(NAMESPACE)).isEqualTo("3");
  }

  @Test
  void serverErrorsCarryTheirStatusCode() {
    try (Jedis jedis = new Jedis(HOST, port())) {
      jedis.hset("h", "f", "v");
      assertThatThrownBy(() -> jedis.get("h")).isInstanceOf(JedisDataException.class);
      // the connection is still fine afterwards
      assertThat(jedis.hget("h", "f")).isEqualTo("v");
    }
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(names(spans)).hasSize(3);
    assertThat(spans.get(1))
        .hasStatus(io.opentelemetry.sdk.trace.data.StatusData.create(
            StatusCode.ERROR, "WRONGTYPE Operation against a key holding the wrong kind of value"))
        .hasAttributesSatisfyingExactly(
            equalTo(SYSTEM, "redis"),
            equalTo(OPERATION, "GET"),
            equalTo(NAMESPACE, "0"),
            equalTo(QUERY, "GET h"),
            equalTo(ADDRESS, HOST),
            equalTo(PORT, (long) port()),
            equalTo(PEER, "127.0.0.1"),
            equalTo(PEER_PORT, (long) port()),
            equalTo(ERROR, "WRONGTYPE"),
            equalTo(STATUS, "WRONGTYPE"));
    assertThat(
            TestTelemetry.durationCount(
                TestTelemetry.attr("error.type", "WRONGTYPE")
                    .and(TestTelemetry.attr("db.response.status_code", "WRONGTYPE"))
                    .and(TestTelemetry.attr("server.port", port()))))
        .isEqualTo(1);
  }

  @Test
  void unreachableServerIsAConnectionError() {
    int closedPort = Ports.free();
    try (Jedis jedis = new Jedis(HOST, closedPort)) {
      assertThatThrownBy(() -> jedis.get("k")).isInstanceOf(JedisConnectionException.class);
    }
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(spans).hasSize(1);
    assertThat(spans.get(0).getName()).isEqualTo("GET " + HOST + ":" + closedPort);
    assertThat(spans.get(0).getAttributes().get(ERROR)).isEqualTo("connection");
    assertThat(spans.get(0).getAttributes().get(STATUS)).isNull();
    assertThat(spans.get(0).getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
  }

  @Test
  void pooledJedisReportsApplicationOperationsOnly() {
    JedisPoolConfig cfg = new JedisPoolConfig();
    cfg.setTestOnBorrow(true); // a validation PING on every borrow: client-internal
    cfg.setTestOnReturn(true);
    try (JedisPool pool = new JedisPool(cfg, HOST, port())) {
      for (int i = 0; i < 3; i++) {
        try (Jedis j = pool.getResource()) {
          j.set("k" + i, "v");
        }
      }
    }
    assertThat(names(TestTelemetry.spans()))
        .containsExactly(
            "SET " + HOST + ":" + port(), "SET " + HOST + ":" + port(), "SET " + HOST + ":" + port());
  }

  @Test
  void unifiedJedisOperationIsOneSpanBoundToTheConnectionItUsed() {
    try (UnifiedJedis jedis = unified()) {
      jedis.set("u", "1");
      assertThat(jedis.get("u")).isEqualTo("1");
      assertThat(jedis.del("u")).isEqualTo(1L);
    }
    List<SpanData> spans = TestTelemetry.spans();
    String hp = " " + HOST + ":" + port();
    assertThat(names(spans)).containsExactly("SET" + hp, "GET" + hp, "DEL" + hp);
    assertThat(spans.get(2))
        .hasAttributesSatisfyingExactly(
            equalTo(SYSTEM, "redis"),
            equalTo(OPERATION, "DEL"),
            equalTo(NAMESPACE, "0"),
            equalTo(QUERY, "DEL u"),
            equalTo(ADDRESS, HOST),
            equalTo(PORT, (long) port()),
            equalTo(PEER, "127.0.0.1"),
            equalTo(PEER_PORT, (long) port()));
  }

  @Test
  void pipelineIsOneSpanWithItsBatchSize() {
    try (Jedis jedis = new Jedis(HOST, port())) {
      Pipeline p = jedis.pipelined();
      for (int i = 0; i < 25; i++) {
        p.set("p" + i, "v");
      }
      p.get("p0");
      p.sync();
      assertThat(jedis.get("p24")).isEqualTo("v");
    }
    List<SpanData> spans = TestTelemetry.spans();
    String hp = " " + HOST + ":" + port();
    assertThat(names(spans)).containsExactly("PIPELINE" + hp, "GET" + hp);
    assertThat(spans.get(0))
        .hasAttributesSatisfyingExactly(
            equalTo(SYSTEM, "redis"),
            equalTo(OPERATION, "PIPELINE"),
            equalTo(NAMESPACE, "0"),
            equalTo(ADDRESS, HOST),
            equalTo(PORT, (long) port()),
            equalTo(PEER, "127.0.0.1"),
            equalTo(PEER_PORT, (long) port()),
            equalTo(BATCH, 26L));
  }

  @Test
  void unifiedPipelineIsOneSpan() {
    try (UnifiedJedis jedis = unified()) {
      // the return type of pipelined() differs between Jedis versions
      Object pipeline = UnifiedJedis.class.getMethod("pipelined").invoke(jedis);
      redis.clients.jedis.commands.PipelineBinaryCommands p =
          (redis.clients.jedis.commands.PipelineBinaryCommands) pipeline;
      for (int i = 0; i < 5; i++) {
        p.set(("q" + i).getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8));
      }
      ((java.io.Closeable) pipeline).close(); // close() syncs
    } catch (java.io.IOException | ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(names(spans)).containsExactly("PIPELINE " + HOST + ":" + port());
    assertThat(spans.get(0).getAttributes().get(BATCH)).isEqualTo(5L);
  }

  @Test
  void transactionIsOneSpanWithItsBatchSize() {
    try (Jedis jedis = new Jedis(HOST, port())) {
      Transaction tx = jedis.multi();
      tx.incr("t");
      tx.incr("t");
      tx.set("s", "x");
      List<Object> result = tx.exec();
      assertThat(result).containsExactly(1L, 2L, "OK");
      assertThat(jedis.get("t")).isEqualTo("2");
    }
    List<SpanData> spans = TestTelemetry.spans();
    String hp = " " + HOST + ":" + port();
    assertThat(names(spans)).containsExactly("MULTI" + hp, "GET" + hp);
    assertThat(spans.get(0).getAttributes().get(BATCH)).isEqualTo(3L);
    assertThat(spans.get(0).getAttributes().get(OPERATION)).isEqualTo("MULTI");
  }

  @Test
  void discardedTransactionIsOneSpan() {
    try (Jedis jedis = new Jedis(HOST, port())) {
      Transaction tx = jedis.multi();
      tx.incr("t");
      tx.discard();
      assertThat(jedis.exists("t")).isFalse();
    }
    assertThat(names(TestTelemetry.spans()))
        .containsExactly("MULTI " + HOST + ":" + port(), "EXISTS " + HOST + ":" + port());
  }

  @Test
  void pubSubSessionsAreNotOperations() throws Exception {
    CountDownLatch subscribed = new CountDownLatch(1);
    CountDownLatch received = new CountDownLatch(1);
    JedisPubSub listener =
        new JedisPubSub() {
          @Override
          public void onSubscribe(String channel, int count) {
            subscribed.countDown();
          }

          @Override
          public void onMessage(String channel, String message) {
            received.countDown();
            unsubscribe();
          }
        };
    Thread subscriber =
        new Thread(
            () -> {
              try (Jedis sub = new Jedis(HOST, port())) {
                sub.subscribe(listener, "news");
              }
            });
    subscriber.start();
    assertThat(subscribed.await(5, TimeUnit.SECONDS)).isTrue();
    try (Jedis pub = new Jedis(HOST, port())) {
      assertThat(pub.publish("news", "hello")).isEqualTo(1L);
    }
    assertThat(received.await(5, TimeUnit.SECONDS)).isTrue();
    subscriber.join(5000);
    assertThat(names(TestTelemetry.spans())).containsExactly("PUBLISH " + HOST + ":" + port());
  }

  @Test
  void faultInsideTheAgentDoesNotAffectTheCall() {
    long faultsBefore = AgentFaults.total();
    long counterBefore = TestTelemetry.counter("redis.resilience.agent.faults", TestTelemetry.any());
    long setsBefore = TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "SET"));
    // the first getRaw() is Jedis' own (writing the command), the second the agent's (the query
    // text, built when the operation ends with its span kept); it throws there only
    Rawable flaky =
        new Rawable() {
          int calls;

          @Override
          public byte[] getRaw() {
            if (calls++ == 1) {
              throw new IllegalStateException("boom inside the agent");
            }
            return "fault-key".getBytes(StandardCharsets.UTF_8);
          }
        };
    try (UnifiedJedis jedis = unified()) {
      Object reply =
          jedis.executeCommand(new CommandArguments(Protocol.Command.SET).add((Object) flaky).add((Object) "value"));
      assertThat(reply).isEqualTo("OK".getBytes(StandardCharsets.UTF_8));
      assertThat(jedis.get("fault-key")).isEqualTo("value");
    }
    assertThat(AgentFaults.total() - faultsBefore).isEqualTo(1);
    assertThat(
            TestTelemetry.counter("redis.resilience.agent.faults", TestTelemetry.any())
                - counterBefore)
        .isEqualTo(1);
    // the fault cost the SET its query text only: its span and duration are still recorded
    List<SpanData> spans = TestTelemetry.spans();
    assertThat(names(spans)).containsExactly("SET " + HOST + ":" + port(), "GET " + HOST + ":" + port());
    assertThat(spans.get(0).getAttributes().get(QUERY)).isNull();
    assertThat(spans.get(0).getAttributes().get(OPERATION)).isEqualTo("SET");
    assertThat(spans.get(0).getAttributes().get(ERROR)).isNull();
    assertThat(spans.get(1).getAttributes().get(QUERY)).isEqualTo("GET fault-key");
    assertThat(TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "SET")) - setsBefore)
        .isEqualTo(1);
  }

  @Test
  void nothingIsRecordedForAWarmedUpClientIdle() {
    try (Jedis jedis = new Jedis(HOST, port())) {
      jedis.ping();
      TestTelemetry.reset();
      TestTelemetry.sleep(50);
    }
    assertThat(TestTelemetry.awaitSpans(1, Duration.ofMillis(100))).isEmpty();
  }
}
