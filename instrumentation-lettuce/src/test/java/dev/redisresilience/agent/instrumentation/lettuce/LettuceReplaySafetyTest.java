package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.FaultProxy;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Lettuce re-sends the commands that were sent and not answered when a connection broke. The
 * agent lets it re-send only what is safe to run twice; an INCR whose reply was lost fails with
 * {@code error.type=outcome_unknown} instead of running again. Proven on the server's data.
 */
class LettuceReplaySafetyTest {
  static final String HOST = "127.0.0.1";
  static final AttributeKey<String> ERROR = AttributeKey.stringKey("error.type");
  static final AttributeKey<String> QUERY = AttributeKey.stringKey("db.query.text");
  static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey("redis.client.operation.attempts");
  static RedisServer server;
  FaultProxy proxy;
  RedisClient client;

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

  static long retries(String outcome) {
    return TestTelemetry.counter(
        "redis.client.retries",
        TestTelemetry.attr("redis.client.retry.outcome", outcome)
            .and(TestTelemetry.attr("db.operation.name", "INCR").or(TestTelemetry.attr("db.operation.name", "GET"))));
  }

  /**
   * Two commands in flight, replies held back 300 ms, the connection reset in place of the first
   * reply: Lettuce fails the first (the one the reset hit) and re-sends the second after it
   * reconnects, although the server already ran it.
   */
  static SpanData spanOf(String query) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (true) {
      for (SpanData s : TestTelemetry.spans()) {
        if (query.equals(s.getAttributes().get(QUERY))) {
          return s;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no span for " + query + " in " + TestTelemetry.spans());
      }
      TestTelemetry.sleep(5);
    }
  }

  <T> List<CompletableFuture<T>> twoInFlightThenReset(
      java.util.function.Function<String, CompletableFuture<T>> call, String command) throws Exception {
    proxy.delayReplies(Duration.ofMillis(300));
    proxy.resetAfterForwarding(command, 1);
    CompletableFuture<CompletableFuture<T>> first = new CompletableFuture<>();
    Thread t = new Thread(() -> first.complete(call.apply("first")), "first-call");
    t.start(); // a sync call blocks its thread: the second one runs on this one
    TestTelemetry.sleep(100);
    CompletableFuture<T> second = call.apply("second");
    t.join(30_000);
    proxy.delayReplies(Duration.ZERO);
    return List.of(first.get(30, TimeUnit.SECONDS), second);
  }

  @ParameterizedTest
  @EnumSource(LettuceApi.class)
  void incrWhoseReplyWasLostIsNotRunAgain(LettuceApi api) throws Exception {
    StatefulRedisConnection<String, String> c = connect(proxy.port());
    long refusedBefore = retries("not_idempotent");

    List<CompletableFuture<Long>> calls = twoInFlightThenReset(k -> api.incr(c, k), "INCR");

    // the reset hit the first: Lettuce fails it itself, it is never re-sent
    assertThat(failureOf(calls.get(0))).hasMessageContaining("Connection reset");
    // the second was sent and not answered: Lettuce alone re-sends it and the server runs it twice
    Throwable failure = failureOf(calls.get(1));
    assertThat(failure).isInstanceOf(RedisConnectionException.class);
    assertThat(failure.getMessage()).startsWith("INCR not re-sent: the connection was lost after it was sent");
    assertThat(server.getLong("first")).isEqualTo(1);
    assertThat(server.getLong("second")).isEqualTo(1);
    SpanData second = spanOf("INCR second");
    assertThat(second.getAttributes().get(ERROR)).isEqualTo("outcome_unknown");
    assertThat(second.getEvents()).extracting(e -> e.getName()).containsExactly("redis.client.retry.refused");
    // both INCRs' outcomes are unknown: the agent refuses to retry the first, and Lettuce's replay
    // of the second
    assertThat(retries("not_idempotent") - refusedBefore).isEqualTo(2);
    // the connection is usable again, and the next INCR runs once
    assertThat(c.sync().incr("second")).isEqualTo(2);
  }

  @ParameterizedTest
  @EnumSource(LettuceApi.class)
  void getWhoseReplyWasLostIsStillReplayedByLettuce(LettuceApi api) throws Exception {
    server.command("SET", "second", "v");
    StatefulRedisConnection<String, String> c = connect(proxy.port());
    long delegatedBefore = retries("delegated");

    List<CompletableFuture<String>> calls = twoInFlightThenReset(k -> api.get(c, k), "GET");

    assertThat(calls.get(1).get(30, TimeUnit.SECONDS)).isEqualTo("v");
    SpanData second = spanOf("GET second");
    assertThat(second.getAttributes().get(ERROR)).isNull();
    assertThat(second.getAttributes().get(ATTEMPTS)).isEqualTo(2L);
    assertThat(retries("delegated") - delegatedBefore).isEqualTo(1);
  }

  /**
   * The scenario: 4 threads, one key per INCR, {@code CLIENT KILL TYPE normal} every 50
   * ms. Every INCR the application saw succeed is on the server exactly once, and none ran twice.
   */
  @ParameterizedTest
  @EnumSource(LettuceApi.class)
  void incrCounterStaysExactWhileConnectionsAreKilled(LettuceApi api) throws Exception {
    int total = api == LettuceApi.SYNC ? 3000 : 8000;
    int window = api == LettuceApi.SYNC ? 1 : 32;
    StatefulRedisConnection<String, String> c = connect(server.port());
    AtomicIntegerArray replies = new AtomicIntegerArray(total); // 0 pending, -1 failed, else reply
    AtomicInteger next = new AtomicInteger();
    AtomicInteger outcomeUnknown = new AtomicInteger();
    AtomicInteger otherFailures = new AtomicInteger();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong killed = new AtomicLong();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    Thread killer =
        new Thread(
            () -> {
              while (!stop.get() && System.nanoTime() < deadline) {
                try {
                  String r = server.command("CLIENT", "KILL", "TYPE", "normal");
                  killed.addAndGet(Long.parseLong(r.substring(1)));
                } catch (IOException | RuntimeException ignored) {
                  // next round
                }
                TestTelemetry.sleep(50);
              }
            },
            "client-killer");
    killer.start();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread w =
          new Thread(
              () -> {
                while (System.nanoTime() < deadline) {
                  int first = next.getAndAdd(window);
                  if (first >= total) {
                    return;
                  }
                  int last = Math.min(total, first + window);
                  List<CompletableFuture<Long>> calls = new ArrayList<>(window);
                  for (int i = first; i < last; i++) {
                    calls.add(api.incr(c, "incr:" + i));
                  }
                  for (int i = first; i < last; i++) {
                    try {
                      Long v = calls.get(i - first).get(30, TimeUnit.SECONDS);
                      replies.set(i, v.intValue());
                    } catch (ExecutionException e) {
                      replies.set(i, -1);
                      if (String.valueOf(e.getCause().getMessage()).startsWith("INCR not re-sent")) {
                        outcomeUnknown.incrementAndGet();
                      } else if (otherFailures.incrementAndGet() == 1) {
                        System.out.println("lettuce " + api + " first other failure: " + e.getCause());
                      }
                    } catch (InterruptedException | TimeoutException e) {
                      throw new IllegalStateException("INCR " + i + " never completed", e);
                    }
                  }
                }
              },
              "incr-" + t);
      w.start();
      workers.add(w);
    }
    for (Thread w : workers) {
      w.join(TimeUnit.SECONDS.toMillis(90));
    }
    stop.set(true);
    killer.join(5000);

    int acknowledged = 0;
    int failed = 0;
    int duplicates = 0;
    int lost = 0;
    int wrongReply = 0;
    for (int from = 0; from < total; from += 500) {
      int to = Math.min(total, from + 500);
      String[] mget = new String[to - from + 1];
      mget[0] = "MGET";
      for (int i = from; i < to; i++) {
        mget[i - from + 1] = "incr:" + i;
      }
      String[] values = server.command(mget).replaceAll("^\\[|\\]$", "").split(", ");
      for (int i = from; i < to; i++) {
        String v = values[i - from];
        long onServer = v.equals("(nil)") ? 0 : Long.parseLong(v);
        int reply = replies.get(i);
        if (onServer > 1) {
          duplicates++;
        }
        if (reply > 0) {
          acknowledged++;
          if (onServer == 0) {
            lost++;
          }
          if (reply != 1) {
            wrongReply++;
          }
        } else if (reply < 0) {
          failed++;
        }
      }
    }
    System.out.printf(
        "lettuce %s %s: %d INCRs, %d acknowledged, %d failed (%d outcome_unknown, %d other),"
            + " %d duplicates, %d lost, %d clients killed%n",
        System.getProperty("client.version"), api, total, acknowledged, failed, outcomeUnknown.get(),
        otherFailures.get(), duplicates, lost, killed.get());
    assertThat(acknowledged + failed).as("every INCR completed").isEqualTo(total);
    assertThat(killed.get()).as("connections were killed while INCRs ran").isGreaterThanOrEqualTo(5);
    assertThat(duplicates).as("INCRs that ran twice").isZero();
    assertThat(lost).as("acknowledged INCRs missing on the server").isZero();
    assertThat(wrongReply).as("acknowledged INCRs not answered 1").isZero();
  }
}
