package dev.redisresilience.agent.instrumentation.lettuce;

import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.assertThat;
import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.equalTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.reactive.RedisReactiveCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

/**
 * Level-2 agent test for Lettuce: the real AgentBuilder in this JVM, a real redis-server, the
 * SDK's in-memory exporters. Runs once per Lettuce version (see the surefire executions).
 */
class LettuceOperationsTest {
  static RedisServer server;
  static RedisClient client;
  static final String HOST = "127.0.0.1";
  StatefulRedisConnection<String, String> connection;

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

  @BeforeAll
  static void start() {
    server = RedisServer.start();
    client = RedisClient.create(RedisURI.create(HOST, server.port()));
  }

  @AfterAll
  static void stop() {
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    server.close();
  }

  @BeforeEach
  void connect() {
    server.flushAll();
    connection = client.connect();
    TestTelemetry.reset(); // connecting is not an operation, but be exact about what follows
  }

  @AfterEach
  void close() {
    connection.close();
  }

  String hp() {
    return " " + HOST + ":" + server.port();
  }

  List<SpanData> awaitSpans(int n) {
    List<SpanData> spans = TestTelemetry.awaitSpans(n, Duration.ofSeconds(5));
    TestTelemetry.sleep(50); // and nothing more arrives
    return TestTelemetry.spans();
  }

  static List<String> names(List<SpanData> spans) {
    return spans.stream().map(SpanData::getName).collect(Collectors.toList());
  }

  @Test
  void syncCommandsAreOneSpanEachWithExactAttributes() {
    RedisCommands<String, String> sync = connection.sync();
    sync.set("k", "secret-value");
    assertThat(sync.get("k")).isEqualTo("secret-value");
    assertThat(sync.incr("n")).isEqualTo(1L);
    List<SpanData> spans = awaitSpans(3);
    assertThat(names(spans)).containsExactly("SET" + hp(), "GET" + hp(), "INCR" + hp());
    assertThat(spans.get(0))
        .hasKind(SpanKind.CLIENT)
        .hasAttributesSatisfyingExactly(
            equalTo(SYSTEM, "redis"),
            equalTo(OPERATION, "SET"),
            equalTo(NAMESPACE, "0"),
            equalTo(QUERY, "SET k ?"),
            equalTo(ADDRESS, HOST),
            equalTo(PORT, (long) server.port()),
            equalTo(PEER, "127.0.0.1"),
            equalTo(PEER_PORT, (long) server.port()));
    assertThat(
            TestTelemetry.durationCount(
                TestTelemetry.attr("db.operation.name", "INCR")
                    .and(TestTelemetry.attr("server.port", server.port()))))
        .isGreaterThanOrEqualTo(1);
  }

  @Test
  void asyncSpanEndsWhenTheReplyArrivesNotAtDispatch() throws Exception {
    RedisAsyncCommands<String, String> async = connection.async();
    // BLPOP with a 1s block: the reply comes ~1s after dispatch
    List<?> nothing =
        async.blpop(1, "empty-list").get(5, TimeUnit.SECONDS) == null ? List.of() : List.of(1);
    assertThat(nothing).isEmpty();
    async.set("a", "1").get(5, TimeUnit.SECONDS);
    List<SpanData> spans = awaitSpans(2);
    assertThat(names(spans)).containsExactly("BLPOP" + hp(), "SET" + hp());
    long blpopNanos = spans.get(0).getEndEpochNanos() - spans.get(0).getStartEpochNanos();
    assertThat(blpopNanos).isGreaterThan(TimeUnit.MILLISECONDS.toNanos(900));
    assertThat(spans.get(0).getAttributes().get(QUERY)).isEqualTo("BLPOP empty-list ?");
  }

  @Test
  void reactiveCommandsAreReportedLikeTheOthers() {
    RedisReactiveCommands<String, String> reactive = connection.reactive();
    reactive.set("r", "1").block(Duration.ofSeconds(5));
    assertThat(reactive.get("r").block(Duration.ofSeconds(5))).isEqualTo("1");
    reactive.hset("h", "f", "v").block(Duration.ofSeconds(5));
    assertThatThrownBy(() -> reactive.get("h").block(Duration.ofSeconds(5)))
        .isInstanceOf(RedisCommandExecutionException.class);
    List<SpanData> spans = awaitSpans(4);
    assertThat(names(spans)).containsExactly("SET" + hp(), "GET" + hp(), "HSET" + hp(), "GET" + hp());
    // Reactor cancels a Mono's source after its value: that is not a cancelled command
    for (int i = 0; i < 3; i++) {
      assertThat(spans.get(i).getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
      assertThat(spans.get(i).getAttributes().get(ERROR)).isNull();
    }
    assertThat(spans.get(3).getAttributes().get(ERROR)).isEqualTo("WRONGTYPE");
    assertThat(spans.get(3).getAttributes().get(STATUS)).isEqualTo("WRONGTYPE");
    assertThat(spans.get(3).getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
  }

  @Test
  void serverErrorsCarryTheirStatusCode() {
    RedisCommands<String, String> sync = connection.sync();
    sync.hset("h", "f", "v");
    assertThatThrownBy(() -> sync.get("h")).isInstanceOf(RedisCommandExecutionException.class);
    List<SpanData> spans = awaitSpans(2);
    assertThat(spans.get(1))
        .hasAttributesSatisfyingExactly(
            equalTo(SYSTEM, "redis"),
            equalTo(OPERATION, "GET"),
            equalTo(NAMESPACE, "0"),
            equalTo(QUERY, "GET h"),
            equalTo(ADDRESS, HOST),
            equalTo(PORT, (long) server.port()),
            equalTo(PEER, "127.0.0.1"),
            equalTo(PEER_PORT, (long) server.port()),
            equalTo(ERROR, "WRONGTYPE"),
            equalTo(STATUS, "WRONGTYPE"));
  }

  @Test
  void selectChangesTheNamespaceAndTheHandshakeIsNotReported() {
    RedisCommands<String, String> sync = connection.sync();
    sync.select(5);
    sync.set("k", "v");
    List<SpanData> spans = awaitSpans(2);
    assertThat(names(spans)).containsExactly("SELECT" + hp(), "SET" + hp());
    assertThat(spans.get(1).getAttributes().get(NAMESPACE)).isEqualTo("5");

    // a connection whose URI names database 7: HELLO/SELECT in the handshake are not operations
    TestTelemetry.reset();
    RedisURI uri = RedisURI.create(HOST, server.port());
    uri.setDatabase(7);
    try (StatefulRedisConnection<String, String> db7 = client.connect(uri)) {
      db7.sync().set("k7", "v");
    }
    spans = awaitSpans(1);
    assertThat(names(spans)).containsExactly("SET" + hp());
    assertThat(spans.get(0).getAttributes().get(NAMESPACE)).isEqualTo("7");
  }

  @Test
  void syncTimeoutIsATimeout() throws Exception {
    connection.setTimeout(Duration.ofMillis(200));
    RedisCommands<String, String> sync = connection.sync();
    server.command("CLIENT", "PAUSE", "700"); // no reply within the 200 ms
    try (PolicyOverride p = PolicyOverride.with("retry.max-attempts", "1")) { // one attempt: no retry gets past the pause
      assertThatThrownBy(() -> sync.get("k")).isInstanceOf(RedisCommandTimeoutException.class);
    } finally {
      TestTelemetry.sleep(800); // the pause ends before the next test
    }
    List<SpanData> spans = awaitSpans(1);
    assertThat(names(spans)).containsExactly("GET" + hp());
    assertThat(spans.get(0).getAttributes().get(ERROR)).isEqualTo("timeout");
    assertThat(spans.get(0).getAttributes().get(STATUS)).isNull();
  }

  @Test
  void reactiveCancelEndsTheSpanAsCancelled() {
    Disposable d = connection.reactive().blpop(2, "never").subscribe();
    TestTelemetry.sleep(100);
    d.dispose();
    List<SpanData> spans = awaitSpans(1);
    assertThat(names(spans)).containsExactly("BLPOP" + hp());
    assertThat(spans.get(0).getAttributes().get(ERROR)).isEqualTo("cancelled");
  }

  @Test
  void transactionCommandsAreReportedEachAndQueuedOnesEndAtExec() {
    RedisCommands<String, String> sync = connection.sync();
    sync.multi();
    sync.incr("t");
    sync.incr("t");
    assertThat(sync.exec().size()).isEqualTo(2);
    List<SpanData> spans = awaitSpans(4);
    assertThat(names(spans))
        .containsExactlyInAnyOrder("MULTI" + hp(), "INCR" + hp(), "INCR" + hp(), "EXEC" + hp());
    assertThat(spans.stream().filter(s -> s.getStatus().getStatusCode() == StatusCode.ERROR)).isEmpty();
  }

  @Test
  void durationCountEqualsTheNumberOfOperations() {
    long before = TestTelemetry.durationCount(TestTelemetry.any());
    RedisAsyncCommands<String, String> async = connection.async();
    for (int i = 0; i < 50; i++) {
      async.set("c" + i, "v");
    }
    connection.sync().get("c49");
    awaitSpans(51);
    assertThat(TestTelemetry.durationCount(TestTelemetry.any()) - before).isEqualTo(51);
  }
}
