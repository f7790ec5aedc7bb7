package dev.redisresilience.agent.instrumentation.jedis;

import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.assertThat;
import static io.opentelemetry.sdk.testing.assertj.OpenTelemetryAssertions.equalTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.Ports;
import dev.redisresilience.harness.RedisServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * A sync call runs on its thread's reusable records (call, operation, attempt) and a legacy-style
 * command on its connection's: a record reused for the next call must never show anything of the
 * call before it, and one that is taken (a call inside a call, a send waiting for its reply) must
 * leave the next call to records of its own. Every span and duration is checked per call.
 */
class JedisRecordReuseTest {
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
  static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("redis.client.operation.attempts");

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

  static List<String> names(List<SpanData> spans) {
    return spans.stream().map(SpanData::getName).collect(Collectors.toList());
  }

  void assertPlain(SpanData span, String operation, String query) {
    assertThat(span)
        .hasStatus(StatusData.unset())
        .hasAttributesSatisfyingExactly(
            equalTo(SYSTEM, "redis"),
            equalTo(OPERATION, operation),
            equalTo(NAMESPACE, "0"),
            equalTo(QUERY, query),
            equalTo(ADDRESS, HOST),
            equalTo(PORT, (long) server.port()),
            equalTo(PEER, "127.0.0.1"),
            equalTo(PEER_PORT, (long) server.port()));
    assertThat(span.getEvents()).isEmpty();
  }

  static CommandArguments args(Protocol.Command cmd, String... rest) {
    CommandArguments a = new CommandArguments(cmd);
    for (String r : rest) {
      a.add((Object) r);
    }
    return a;
  }

  @Test
  void aCallAfterACallThatFailedWithRetriesCarriesNothingOfIt() {
    int closed = Ports.free();
    java.util.function.Predicate<io.opentelemetry.api.common.Attributes> failedDown =
        TestTelemetry.attr("error.type", "connection").and(TestTelemetry.attr("server.port", closed));
    java.util.function.Predicate<io.opentelemetry.api.common.Attributes> fineUp =
        TestTelemetry.attr("server.port", server.port()).and(a -> a.get(ERROR) == null);
    java.util.function.Predicate<io.opentelemetry.api.common.Attributes> wrongType =
        TestTelemetry.attr("error.type", "WRONGTYPE");
    long all0 = TestTelemetry.durationCount(TestTelemetry.any());
    long failedDown0 = TestTelemetry.durationCount(failedDown);
    long fineUp0 = TestTelemetry.durationCount(fineUp);
    long wrongType0 = TestTelemetry.durationCount(wrongType);
    try (PolicyOverride p = PolicyOverride.with("retry.backoff.base", "1ms", "retry.budget.tokens", "0");
        Jedis down = new Jedis(HOST, closed);
        Jedis up = new Jedis(HOST, server.port());
        UnifiedJedis pooled = UnifiedClients.pooled(HOST, server.port())) {
      assertThatThrownBy(() -> down.incr("k")).isInstanceOf(JedisConnectionException.class);
      up.set("a", "1"); // the legacy call right after, on the same thread's records
      assertThatThrownBy(() -> down.get("x")).isInstanceOf(JedisConnectionException.class);
      assertThat(pooled.get("a")).isEqualTo("1"); // a UnifiedJedis call right after
      up.hset("h", "f", "v");
      assertThatThrownBy(() -> up.get("h")).isInstanceOf(JedisDataException.class);
      assertThat(up.hget("h", "f")).isEqualTo("v"); // after a server error
    }
    List<SpanData> spans = TestTelemetry.spans();
    String hp = " " + HOST + ":" + server.port();
    assertThat(names(spans))
        .containsExactly(
            "INCR " + HOST + ":" + closed,
            "SET" + hp,
            "GET " + HOST + ":" + closed,
            "GET" + hp,
            "HSET" + hp,
            "GET" + hp,
            "HGET" + hp);
    for (int i : new int[] {0, 2}) {
      SpanData failed = spans.get(i);
      assertThat(failed.getAttributes().get(ERROR)).isEqualTo("connection");
      assertThat(failed.getAttributes().get(ATTEMPTS)).isEqualTo(4L);
      assertThat(failed.getAttributes().get(PORT)).isEqualTo((long) closed);
      assertThat(failed.getEvents())
          .extracting(EventData::getName)
          .containsExactly(
              "redis.client.retry", "redis.client.retry", "redis.client.retry", "redis.client.retry.refused");
    }
    assertThat(spans.get(0).getAttributes().get(QUERY)).isEqualTo("INCR k");
    assertThat(spans.get(2).getAttributes().get(QUERY)).isEqualTo("GET x");
    assertPlain(spans.get(1), "SET", "SET a ?");
    assertPlain(spans.get(3), "GET", "GET a");
    assertPlain(spans.get(4), "HSET", "HSET h ? ?");
    assertThat(spans.get(5).getAttributes().get(ERROR)).isEqualTo("WRONGTYPE");
    assertThat(spans.get(5).getAttributes().get(STATUS)).isEqualTo("WRONGTYPE");
    assertThat(spans.get(5).getAttributes().get(QUERY)).isEqualTo("GET h");
    assertPlain(spans.get(6), "HGET", "HGET h ?");
    // one duration per call, each with its own server and outcome
    assertThat(TestTelemetry.durationCount(TestTelemetry.any()) - all0).isEqualTo(7);
    assertThat(TestTelemetry.durationCount(failedDown) - failedDown0).isEqualTo(2);
    assertThat(TestTelemetry.durationCount(fineUp) - fineUp0).isEqualTo(4);
    assertThat(TestTelemetry.durationCount(wrongType) - wrongType0).isEqualTo(1);
  }

  @Test
  void sendsWaitingForTheirRepliesAndACallBetweenThemKeepTheirOwnRecords() {
    long sets0 = TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "SET"));
    long gets0 = TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "GET"));
    try (Connection c = new Connection(new HostAndPort(HOST, server.port()));
        Jedis other = new Jedis(HOST, server.port())) {
      c.sendCommand(Protocol.Command.SET, "s1", "v1"); // on the connection's reusable call
      c.sendCommand(Protocol.Command.GET, "s2"); // the reusable one waits: a call of its own
      other.set("between", "x"); // a whole call on the thread's records meanwhile
      assertThat(c.getStatusCodeReply()).isEqualTo("OK");
      assertThat(c.getBulkReply()).isNull();
      c.sendCommand(Protocol.Command.GET, "s1"); // the connection's call is free again
      assertThat(c.getBulkReply()).isEqualTo("v1");
    }
    List<SpanData> spans = TestTelemetry.spans();
    String hp = " " + HOST + ":" + server.port();
    assertThat(names(spans)).containsExactly("SET" + hp, "SET" + hp, "GET" + hp, "GET" + hp);
    assertPlain(spans.get(0), "SET", "SET between ?");
    assertPlain(spans.get(1), "SET", "SET s1 ?");
    assertPlain(spans.get(2), "GET", "GET s2");
    assertPlain(spans.get(3), "GET", "GET s1");
    assertThat(TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "SET")) - sets0).isEqualTo(2);
    assertThat(TestTelemetry.durationCount(TestTelemetry.attr("db.operation.name", "GET")) - gets0).isEqualTo(2);
  }

  @Test
  void aCallStartedWhileTheThreadsRecordIsTakenGetsRecordsOfItsOwn() {
    JedisFrame f = new JedisFrame();
    JedisCall outer = JedisOperations.takeCall(f, args(Protocol.Command.GET, "outer"), JedisCall.OWN_RETRIES);
    outer.op.attempt();
    outer.op.retrying(2, Failure.connection(Failure.Phase.MAYBE_SENT, null), 1_000_000);
    JedisCall inner = JedisOperations.takeCall(f, args(Protocol.Command.SET, "inner", "v"), JedisCall.OWN_RETRIES);
    assertThat(inner).isNotSameAs(outer);
    assertThat(inner.op).isNotSameAs(outer.op);
    assertThat(inner.frame).isNull();
    assertThat(inner.op.isConfined()).isFalse();
    inner.op.attempt();
    inner.op.end(null);
    JedisOperations.giveBack(inner);
    assertThat(f.callTaken).isTrue(); // the inner call gave back nothing of the thread's
    outer.op.end(Failure.connection(Failure.Phase.MAYBE_SENT, null));
    JedisOperations.giveBack(outer);
    assertThat(f.callTaken).isFalse();
    assertThat(outer.args.count()).isZero(); // holds no arguments of the application's once given back

    JedisCall next = JedisOperations.takeCall(f, args(Protocol.Command.INCR, "n"), JedisCall.OWN_RETRIES);
    assertThat(next).isSameAs(outer); // reused: call, operation and argument view
    assertThat(next.op).isSameAs(outer.op);
    assertThat(next.lastFailure).isNull();
    assertThat(next.op.attempts()).isZero();
    next.op.attempt();
    next.op.end(null);
    JedisOperations.giveBack(next);

    List<SpanData> spans = TestTelemetry.spans();
    assertThat(names(spans)).containsExactly("SET", "GET", "INCR");
    assertThat(spans.get(0).getAttributes().get(QUERY)).isEqualTo("SET inner ?");
    assertThat(spans.get(0).getEvents()).isEmpty();
    assertThat(spans.get(1).getAttributes().get(QUERY)).isEqualTo("GET outer");
    assertThat(spans.get(1).getAttributes().get(ERROR)).isEqualTo("connection");
    assertThat(spans.get(1).getEvents()).extracting(EventData::getName).containsExactly("redis.client.retry");
    assertThat(spans.get(2).getAttributes().get(QUERY)).isEqualTo("INCR n");
    assertThat(spans.get(2).getAttributes().get(ERROR)).isNull();
    assertThat(spans.get(2).getAttributes().get(ATTEMPTS)).isNull();
    assertThat(spans.get(2).getEvents()).isEmpty(); // the reused operation's events are its own
    assertThat(spans.get(2).getStatus()).isEqualTo(StatusData.unset());
  }

  @Test
  void anAttemptNestedInAnotherGetsOneOfItsOwn() {
    JedisFrame f = new JedisFrame();
    JedisCall call = JedisOperations.takeCall(f, args(Protocol.Command.GET, "k"), JedisCall.OWN_RETRIES);
    JedisConnState s = new JedisConnState();
    JedisAttempt first = f.takeAttempt(call, true, s);
    first.readTimeoutMillis = 5;
    first.rollback = true;
    JedisAttempt nested = f.takeAttempt(call, false, s); // a retry in place runs inside the first
    assertThat(nested).isNotSameAs(first);
    assertThat(nested.readTimeoutMillis).isEqualTo(-1);
    JedisFrame.giveBack(nested);
    assertThat(f.attemptTaken).isTrue();
    JedisFrame.giveBack(first);
    JedisAttempt again = f.takeAttempt(call, false, s);
    assertThat(again).isSameAs(first);
    assertThat(again.owner).isFalse();
    assertThat(again.readTimeoutMillis).isEqualTo(-1);
    assertThat(again.rollback).isFalse();
    assertThat(again.refused).isNull();
    JedisFrame.giveBack(again);
    call.op.end(null);
    JedisOperations.giveBack(call);
  }
}
