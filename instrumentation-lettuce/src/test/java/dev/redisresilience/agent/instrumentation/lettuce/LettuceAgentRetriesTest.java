package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.FaultProxy;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The agent retries Lettuce sync, async and reactive commands itself, with the shared engine: a GET whose
 * connection was reset, a LOADING reply, a timed-out attempt are retried with a fresh command
 * after a backoff; the caller's call completes once with the final outcome and one span covers
 * every attempt. The safety rule holds on the server's data: an INCR whose outcome is unknown
 * runs once; an INCR the server refused (LOADING) runs once, after its retry.
 */
class LettuceAgentRetriesTest {
  static final String HOST = "127.0.0.1";
  static final AttributeKey<String> ERROR = AttributeKey.stringKey("error.type");
  static final AttributeKey<String> QUERY = AttributeKey.stringKey("db.query.text");
  static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("redis.client.operation.attempts");
  static final AttributeKey<String> REFUSAL = AttributeKey.stringKey("redis.client.retry.refusal");
  static RedisServer server;
  FaultProxy proxy;
  RedisClient client;

  @BeforeAll
  static void start() {
    server = RedisServer.start("--enable-debug-command", "local");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @BeforeEach
  void reset() {
    server.flushAll();
    proxy = FaultProxy.start(server.port());
    TestTelemetry.reset();
  }

  @AfterEach
  void close() {
    if (client != null) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    proxy.close();
  }

  StatefulRedisConnection<String, String> connect(int port) {
    client = RedisClient.create(RedisURI.create(HOST, port));
    StatefulRedisConnection<String, String> c = client.connect();
    c.sync().ping();
    TestTelemetry.reset();
    return c;
  }

  static Throwable failureOf(CompletableFuture<?> f) throws Exception {
    try {
      f.get(30, TimeUnit.SECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    }
  }

  static long retries(String command, String outcome) {
    return TestTelemetry.counter(
        "redis.client.retries",
        TestTelemetry.attr("redis.client.retry.outcome", outcome).and(TestTelemetry.attr("db.operation.name", command)));
  }

  static List<SpanData> spansOf(String operation, int count) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      List<SpanData> spans =
          TestTelemetry.spans().stream()
              .filter(s -> s.getName().startsWith(operation))
              .collect(Collectors.toList());
      if (spans.size() >= count || System.nanoTime() > deadline) {
        return spans;
      }
      TestTelemetry.sleep(10);
    }
  }

  /** The span's attempts (the attribute is there when there was more than one). */
  static long attempts(SpanData s) {
    Long n = s.getAttributes().get(ATTEMPTS);
    return n == null ? 1 : n;
  }

  static SpanData spanOf(String query) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      for (SpanData s : TestTelemetry.spans()) {
        if (query.equals(s.getAttributes().get(QUERY))) {
          return s;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no span for " + query + " in " + TestTelemetry.spans());
      }
      TestTelemetry.sleep(10);
    }
  }

  /**
   * Now and then a GET's connection is reset before the server sees it (8 times): Lettuce fails the command the
   * reset hit (the oldest in flight) itself. With the agent, each of those is retried on the
   * reconnected connection: no GET fails, every value is right, one span per GET.
   */
  @ParameterizedTest
  @EnumSource(LettuceApi.class)
  void getsWhoseConnectionWasResetAreRetried(LettuceApi api) throws Exception {
    int total = 200;
    for (int i = 0; i < total; i++) {
      server.command("SET", "k" + i, "v" + i);
    }
    StatefulRedisConnection<String, String> c = connect(proxy.port());
    int window = api == LettuceApi.SYNC ? 1 : 10;
    // async: 10 in flight are all hit by one reset (Lettuce re-sends the 9 it can): a reset at
    // most every 25 GETs lets a window through between two resets, as a transient fault would
    int every = api == LettuceApi.SYNC ? 5 : 25;
    proxy.resetBeforeForwardingEvery("GET", every, 8);
    int failed = 0;
    int wrong = 0;
    for (int first = 0; first < total; first += window) {
      List<CompletableFuture<String>> calls = new ArrayList<>();
      for (int i = first; i < first + window; i++) {
        calls.add(api.get(c, "k" + i));
      }
      for (int i = first; i < first + window; i++) {
        Throwable t = failureOf(calls.get(i - first));
        if (t != null) {
          failed++;
          System.out.println("GET k" + i + " failed: " + t);
        } else if (!("v" + i).equals(calls.get(i - first).get())) {
          wrong++;
        }
      }
    }
    List<SpanData> spans = spansOf("GET", total);
    spans.stream().filter(s -> s.getAttributes().get(ERROR) != null)
        .forEach(s -> System.out.println("failed: " + s.getAttributes() + " " + s.getEvents()));
    assertThat(failed).as("GETs that failed").isZero();
    assertThat(wrong).as("GETs answered with another key's value").isZero();
    assertThat(spans).hasSize(total);
    long retried = spans.stream().filter(s -> attempts(s) > 1).count();
    assertThat(retried).as("GETs that took more than one attempt").isGreaterThanOrEqualTo(8);
    assertThat(spans).allSatisfy(s -> assertThat(s.getAttributes().get(ERROR)).isNull());
    // the GET each reset hit (and any whose write failed on the dying channel) was retried by the
    // agent; the others Lettuce re-sent ("delegated")
    assertThat(retries("GET", "success")).isGreaterThanOrEqualTo(8);
  }

  /**
   * LOADING means the server did not run the command: retried for any command, an INCR too,
   * which then runs exactly once. WRONGTYPE is a definite answer: never retried.
   */
  @ParameterizedTest
  @EnumSource(LettuceApi.class)
  void loadingIsRetriedAndWrongTypeIsNot(LettuceApi api) throws Exception {
    StatefulRedisConnection<String, String> c = connect(proxy.port());
    proxy.injectError("INCR", "LOADING Redis is loading the dataset in memory", 2);
    assertThat(api.incr(c, "counter").get(30, TimeUnit.SECONDS)).isEqualTo(1L);
    assertThat(server.getLong("counter")).isEqualTo(1);
    SpanData incr = spanOf("INCR counter");
    assertThat(incr.getAttributes().get(ATTEMPTS)).isEqualTo(3L);
    assertThat(incr.getAttributes().get(ERROR)).isNull();
    assertThat(incr.getEvents()).extracting(EventData::getName)
        .containsExactly("redis.client.retry", "redis.client.retry");

    server.command("LPUSH", "list", "x");
    Throwable wrongType = failureOf(api.get(c, "list"));
    assertThat(wrongType).isInstanceOf(RedisCommandExecutionException.class).hasMessageStartingWith("WRONGTYPE");
    SpanData get = spanOf("GET list");
    assertThat(attempts(get)).isEqualTo(1L);
    assertThat(get.getAttributes().get(ERROR)).isEqualTo("WRONGTYPE");
  }

  /**
   * MGET and HMGET read their reply with the keys of the command (KeyValueListOutput): an attempt
   * renewed with an output made from the codec alone would pair the values up as keys and values.
   * Such outputs are not renewed, so these commands are never answered with wrong data: the
   * LOADING comes back to the app (they are not retried by the agent).
   */
  @Test
  void mgetAndHmgetAreNeverAnsweredWithWrongData() throws Exception {
    server.command("SET", "a", "1");
    server.command("SET", "b", "2");
    server.command("HSET", "h", "f", "x", "g", "y");
    StatefulRedisConnection<String, String> c = connect(proxy.port());
    proxy.injectError("MGET", "LOADING Redis is loading the dataset in memory", 1);
    proxy.injectError("HMGET", "LOADING Redis is loading the dataset in memory", 1);
    for (String cmd : new String[] {"MGET", "HMGET"}) {
      CompletableFuture<List<io.lettuce.core.KeyValue<String, String>>> f =
          cmd.equals("MGET")
              ? c.async().mget("a", "b").toCompletableFuture()
              : c.async().hmget("h", "f", "g").toCompletableFuture();
      Throwable t = failureOf(f);
      if (t == null) {
        List<String> expected = cmd.equals("MGET") ? List.of("a=1", "b=2") : List.of("f=x", "g=y");
        assertThat(f.get()).extracting(kv -> kv.getKey() + "=" + kv.getValue()).isEqualTo(expected);
      } else {
        assertThat(t).hasMessageStartingWith("LOADING");
      }
    }
    assertThat(c.sync().mget("a", "b")).extracting(kv -> kv.getValue()).containsExactly("1", "2");
  }

  /** The retries stop at retry.max-attempts: the last attempt's error is the call's. */
  @Test
  void retriesStopAtMaxAttempts() throws Exception {
    StatefulRedisConnection<String, String> c = connect(proxy.port());
    proxy.injectError("GET", "LOADING Redis is loading the dataset in memory", 10);
    Throwable t = failureOf(LettuceApi.ASYNC.get(c, "k"));
    assertThat(t).isInstanceOf(RedisCommandExecutionException.class).hasMessageStartingWith("LOADING");
    SpanData get = spanOf("GET k");
    assertThat(get.getAttributes().get(ATTEMPTS)).isEqualTo(4L);
    assertThat(get.getAttributes().get(ERROR)).isEqualTo("LOADING");
    assertThat(get.getEvents()).extracting(e -> e.getAttributes().get(REFUSAL))
        .contains("attempts_exhausted");
    assertThat(retries("GET", "failure")).isEqualTo(3);
    proxy.clearFaults();
    assertThat(c.sync().get("k")).isNull(); // the connection's replies are still in order
  }

  /**
   * The scenario: a server busy in DEBUG SLEEP 8 with timeout.command=1s. Without the
   * agent's retries the sync call waited 7.7 s and succeeded; now each attempt is cut at 1 s and
   * the call fails after 4 attempts, long before the server wakes up. The replies the server
   * finally sends for the given-up attempts go nowhere: the next command gets its own.
   */
  @ParameterizedTest
  @EnumSource(LettuceApi.class)
  void sleepingServerFailsAfterTheAttemptsNotWhenItWakes(LettuceApi api) throws Exception {
    try (PolicyOverride p = PolicyOverride.with("timeout.command", "1s")) {
      server.command("SET", "k", "v");
      // through a proxy of its own: a server (and retry budget) no other test shares
      StatefulRedisConnection<String, String> c = connect(proxy.port());
      Thread sleeper = new Thread(() -> debugSleep(8), "debug-sleep");
      sleeper.start();
      TestTelemetry.sleep(200);
      long t0 = System.nanoTime();
      Throwable t = failureOf(api.get(c, "k"));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      System.out.printf("lettuce %s %s GET against DEBUG SLEEP 8, timeout.command=1s: %s after %d ms%n",
          System.getProperty("client.version"), api, t == null ? "succeeded" : t.getClass().getSimpleName(), ms);
      assertThat(t).isInstanceOf(RedisCommandTimeoutException.class);
      assertThat(ms).as("failed after 4 attempts of 1 s, not when the server woke").isBetween(3500L, 7000L);
      SpanData get = spanOf("GET k");
      assertThat(get.getAttributes().get(ATTEMPTS)).isEqualTo(4L);
      assertThat(get.getAttributes().get(ERROR)).isEqualTo("timeout");
      sleeper.join(15_000);
      awaitAwake();
      assertThat(c.sync().get("k")).isEqualTo("v");
      assertThat(c.sync().set("k2", "w")).isEqualTo("OK");
      assertThat(c.sync().get("k2")).isEqualTo("w");
    }
  }

  /**
   * INCRs, one key per call, while the proxy resets connections both before a command reaches the
   * server (it never ran) and after the server ran it (its reply is lost): every INCR the
   * application saw succeed is on the server exactly once, none ran twice, and the ones that
   * failed are the ones whose outcome was unknown.
   */
  @ParameterizedTest
  @EnumSource(LettuceApi.class)
  void incrCounterStaysExactUnderResets(LettuceApi api) throws Exception {
    StatefulRedisConnection<String, String> c = connect(proxy.port());
    int total = 400;
    int window = api == LettuceApi.SYNC ? 1 : 8;
    proxy.resetBeforeForwardingEvery("INCR", 37, 5);
    proxy.resetAfterForwarding("INCR", 3);
    long[] replies = new long[total];
    for (int first = 0; first < total; first += window) {
      List<CompletableFuture<Long>> calls = new ArrayList<>();
      for (int i = first; i < first + window; i++) {
        calls.add(api.incr(c, "n" + i));
      }
      for (int i = first; i < first + window; i++) {
        replies[i] = failureOf(calls.get(i - first)) == null ? calls.get(i - first).get() : -1;
      }
    }
    int acknowledged = 0;
    int duplicates = 0;
    int lost = 0;
    for (int i = 0; i < total; i++) {
      long onServer = server.getLong("n" + i);
      duplicates += onServer > 1 ? 1 : 0;
      if (replies[i] > 0) {
        acknowledged++;
        lost += onServer == 1 && replies[i] == 1 ? 0 : 1;
      }
    }
    System.out.printf("lettuce %s %s under resets: %d INCRs, %d acknowledged, %d duplicates, %d lost%n",
        System.getProperty("client.version"), api, total, acknowledged, duplicates, lost);
    assertThat(duplicates).as("INCRs that ran twice").isZero();
    assertThat(lost).as("acknowledged INCRs not on the server exactly once").isZero();
    assertThat(acknowledged).as("most INCRs got through").isGreaterThan(total - 8 * window - 10);
  }

  /**
   * An INCR issued while the connection is down waits in Lettuce's offline queue. When its time
   * is up there it was certainly not sent, but Lettuce would still write it after reconnecting,
   * so the agent keeps it queued for further attempts instead of sending a second one: it runs
   * exactly once, when the connection is back. (Without the agent it failed at its timeout.)
   */
  @ParameterizedTest
  @EnumSource(LettuceApi.class)
  void incrQueuedWhileReconnectingRunsOnceWhenTheConnectionIsBack(LettuceApi api) throws Exception {
    // (each timeout in the queue takes from the retry budget, as evidence of an outage: off here,
    // where the point is that the queued command is sent once; and reconnects at most 200 ms apart)
    try (PolicyOverride p =
        PolicyOverride.with(
            "timeout.command", "300ms", "retry.max-attempts", "12", "retry.budget.tokens", "0",
            "reconnect.backoff.max", "200ms")) {
      StatefulRedisConnection<String, String> c = connect(proxy.port());
      proxy.refuseConnections(true);
      proxy.resetAllConnections();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (c.isOpen() && System.nanoTime() < deadline) {
        TestTelemetry.sleep(5);
      }
      assertThat(c.isOpen()).as("Lettuce saw the connection go").isFalse();
      Thread back =
          new Thread(
              () -> {
                TestTelemetry.sleep(700);
                proxy.refuseConnections(false);
              },
              "proxy-back");
      back.start();
      long t0 = System.nanoTime();
      assertThat(api.incr(c, "queued").get(30, TimeUnit.SECONDS)).isEqualTo(1L);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      back.join(5000);
      assertThat(ms).as("it waited for the reconnect, past one command timeout").isGreaterThanOrEqualTo(600L);
      assertThat(server.getLong("queued")).isEqualTo(1);
      SpanData incr = spanOf("INCR queued");
      assertThat(attempts(incr)).isGreaterThanOrEqualTo(2L);
      assertThat(incr.getAttributes().get(ERROR)).isNull();
      assertThat(incr.getEvents()).extracting(e -> e.getAttributes().get(ERROR)).contains("timeout");
      TestTelemetry.sleep(300);
      assertThat(server.getLong("queued")).as("and never again").isEqualTo(1);
    }
  }

  /** An INCR that timed out may have run: never retried, whatever retry.on says. */
  @Test
  void timedOutIncrIsNotRetried() throws Exception {
    try (PolicyOverride p = PolicyOverride.with("timeout.command", "300ms")) {
      StatefulRedisConnection<String, String> c = connect(proxy.port());
      proxy.delayReplies(Duration.ofSeconds(1));
      Throwable t = failureOf(LettuceApi.ASYNC.incr(c, "counter"));
      assertThat(t).isInstanceOf(RedisCommandTimeoutException.class);
      proxy.delayReplies(Duration.ZERO);
      TestTelemetry.sleep(1500);
      assertThat(server.getLong("counter")).isEqualTo(1);
      SpanData incr = spanOf("INCR counter");
      assertThat(attempts(incr)).isEqualTo(1L);
      assertThat(incr.getEvents()).extracting(e -> e.getAttributes().get(REFUSAL)).contains("not_idempotent");
    }
  }

  /**
   * A GET dispatched after WATCH: retried on a reconnected connection, the app's EXEC would then
   * commit without the WATCH. Not retried: the refusal says why.
   */
  @Test
  void getOnAWatchingConnectionIsNotRetried() throws Exception {
    StatefulRedisConnection<String, String> c = connect(proxy.port());
    RedisAsyncCommands<String, String> async = c.async();
    assertThat(async.watch("w").get(10, TimeUnit.SECONDS)).isEqualTo("OK");
    proxy.resetBeforeForwarding("GET", 1);
    Throwable t = failureOf(async.get("w").toCompletableFuture());
    assertThat(t).isInstanceOf(IOException.class);
    SpanData get = spanOf("GET w");
    assertThat(attempts(get)).isEqualTo(1L);
    assertThat(get.getEvents()).extracting(e -> e.getAttributes().get(REFUSAL)).contains("session_state_lost");
    // after UNWATCH the connection's commands are portable again
    c.sync().unwatch();
    proxy.resetBeforeForwarding("GET", 1);
    assertThat(async.get("w").get(30, TimeUnit.SECONDS)).isNull();
  }

  /** Waits (at most 15 s) until the server answers again after DEBUG SLEEP. */
  static void awaitAwake() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < deadline) {
      try {
        if ("+PONG".equals(server.command("PING"))) {
          return;
        }
      } catch (IOException e) {
        // still asleep
      }
    }
    throw new AssertionError("the server did not wake up");
  }

  static void debugSleep(int seconds) {
    try {
      server.command("DEBUG", "SLEEP", String.valueOf(seconds));
    } catch (IOException e) {
      // the raw socket's 5 s read timeout: the server still sleeps its full time
    }
  }
}
