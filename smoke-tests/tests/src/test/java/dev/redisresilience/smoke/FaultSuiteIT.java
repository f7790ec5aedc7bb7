package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.harness.FaultProxy;
import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.OtlpReceiver;
import dev.redisresilience.harness.ReceivedLog;
import dev.redisresilience.harness.ReceivedSpan;
import dev.redisresilience.harness.RedisServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fault suite: the packaged agent on an unmodified Jedis or Lettuce app (fault-app), talking
 * to a real redis-server through a RESP-aware fault proxy. Every scenario is written once and run
 * for the Jedis clients and Lettuce's sync and async APIs; every call the app makes is checked
 * against what the server holds, and against the telemetry that arrived over OTLP. Where the
 * clients differ (exception classes, Jedis replacing a timed-out connection), the expectation
 * says so.
 */
class FaultSuiteIT {
  static final int COMMAND_TIMEOUT_MS = 250;
  static final int MAX_ATTEMPTS = 4;
  /** attempts x (timeout + a reconnect's handshake) + backoff + slack: a failed call's bound. */
  static final long CALL_BOUND_MS = MAX_ATTEMPTS * 2L * COMMAND_TIMEOUT_MS + 1000 + 1000;

  RedisServer redis;
  FaultProxy proxy;
  OtlpReceiver receiver;

  @BeforeEach
  void start() {
    redis = RedisServer.start();
    proxy = FaultProxy.start(redis.port());
    receiver = OtlpReceiver.startHttpOnly();
  }

  @AfterEach
  void stop() {
    receiver.close();
    proxy.close();
    redis.close();
  }

  ForkedJvm.Builder app(String... args) {
    return SmokeSupport.withAgent(
            SmokeSupport.plainApp("fault-app", "dev.redisresilience.apps.fault.FaultApp"), receiver, "http/protobuf")
        .sysProp("redis.resilience.timeout.command", COMMAND_TIMEOUT_MS + "ms")
        .sysProp("redis.resilience.retry.backoff.base", "5ms")
        .sysProp("app.timeout.ms", "2000")
        .args(args);
  }

  /** One line per call: CALL n OK|FAIL ms rest. */
  static final class Call {
    final int n;
    final boolean ok;
    final long ms;
    final String rest;

    Call(String line) {
      String[] p = line.split(" ", 5);
      n = Integer.parseInt(p[1]);
      ok = p[2].equals("OK");
      ms = Long.parseLong(p[3]);
      rest = p.length > 4 ? p[4] : "";
    }

    @Override
    public String toString() {
      return n + (ok ? " ok " : " FAIL ") + ms + "ms " + rest;
    }
  }

  static List<Call> calls(ForkedJvm.Result r) {
    List<Call> out = new ArrayList<>();
    for (String line : r.stdout.split("\n")) {
      if (line.startsWith("CALL ")) {
        out.add(new Call(line));
      }
    }
    return out;
  }

  String hostPort() {
    return "127.0.0.1:" + proxy.port();
  }

  double metric(String name, Predicate<Map<String, Object>> attrs) {
    return receiver.total(name, attrs);
  }

  static boolean isLettuce(String client) {
    return client.startsWith("lettuce-");
  }

  /** How the app reports a connection that broke under a call, per client. */
  static String connectionFailure(String client) {
    return isLettuce(client)
        ? "(java\\.net\\.SocketException|io\\.lettuce\\.core\\.RedisException) .*Connection reset.*"
        : "redis\\.clients\\.jedis\\.exceptions\\.JedisConnectionException .*";
  }

  static Predicate<Map<String, Object>> attr(String k, Object v) {
    return a -> v.equals(a.get(k));
  }

  List<ReceivedSpan> spans(String operation) {
    return receiver.spans(s -> operation.equals(s.attributes.get("db.operation.name")));
  }

  static long refusals(ReceivedSpan s, String reason) {
    return s.events.stream()
        .filter(e -> e.name.equals("redis.client.retry.refused") && reason.equals(e.attributes.get("redis.client.retry.refusal")))
        .count();
  }

  @ParameterizedTest
  @ValueSource(strings = {"legacy", "pool", "unified", "lettuce-sync", "lettuce-async"})
  void incrWhoseReplyIsLostIsNeverRunTwice(String client) throws Exception {
    proxy.resetAfterForwarding("INCR", 5); // executed by Redis, then the connection dies
    ForkedJvm.Result r = app("incr", client, hostPort(), "20", "lost").run(Duration.ofSeconds(90)).assertSuccess();
    List<Call> calls = calls(r);
    assertThat(calls).hasSize(20);
    for (Call c : calls) {
      String value = redis.command("GET", "lost:" + c.n);
      assertThat(value).as("INCR %s ran exactly once", c).isEqualTo("1");
      if (c.n <= 5) {
        // its outcome was unknown to the app: a classified failure, not a silent re-run
        assertThat(c.ok).as(c.toString()).isFalse();
        assertThat(c.rest).matches(connectionFailure(client));
        assertThat(c.ms).isLessThan(CALL_BOUND_MS);
      } else {
        assertThat(c.ok).as(c.toString()).isTrue();
        assertThat(c.rest).isEqualTo("1");
      }
    }
    List<ReceivedSpan> incrs = spans("INCR");
    assertThat(incrs).hasSize(20);
    List<ReceivedSpan> failed = incrs.stream().filter(s -> "ERROR".equals(s.statusCode)).collect(Collectors.toList());
    assertThat(failed).hasSize(5).allSatisfy(s -> {
      assertThat(s.attributes.get("error.type")).isEqualTo("connection");
      assertThat(refusals(s, "not_idempotent")).isEqualTo(1);
      if (!isLettuce(client)) {
        // (Lettuce writes a command again whose first write failed on the dying channel: it
        // never reached the server, but counts as an attempt)
        assertThat(s.attributes).doesNotContainKey("redis.client.operation.attempts");
      }
    });
    assertThat(metric("redis.client.retries", attr("redis.client.retry.outcome", "not_idempotent")
        .and(attr("error.type", "connection")).and(attr("db.operation.name", "INCR")))).isEqualTo(5);
    assertThat(metric("redis.client.retries", attr("redis.client.retry.outcome", "success"))).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"pool", "lettuce-sync", "lettuce-async"})
  void incrResetBeforeItRanFailsClassifiedAndIsNotRunLater(String client) throws Exception {
    proxy.resetBeforeForwarding("INCR", 5); // never reaches Redis, but the client cannot know
    ForkedJvm.Result r = app("incr", client, hostPort(), "20", "unsent").run(Duration.ofSeconds(90)).assertSuccess();
    List<Call> calls = calls(r);
    assertThat(calls).hasSize(20);
    for (Call c : calls) {
      String value = redis.command("GET", "unsent:" + c.n);
      if (c.n <= 5) {
        assertThat(c.ok).as(c.toString()).isFalse();
        assertThat(c.rest).matches(connectionFailure(client));
        assertThat(value).as("not executed, and not re-run behind the app's back").isEqualTo("(nil)");
      } else {
        assertThat(c.ok).as(c.toString()).isTrue();
        assertThat(value).isEqualTo("1");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"pool", "lettuce-sync", "lettuce-async"})
  void getsThroughTransientResetsAllSucceedWithTheirRetriesRecorded(String client) throws Exception {
    for (int i = 1; i <= 10; i++) {
      redis.command("SET", "g:" + i, "v" + i);
    }
    proxy.resetBeforeForwardingEvery("GET", 2, 5); // every other GET is reset, five times
    ForkedJvm.Result r = app("get", client, hostPort(), "10", "g").run(Duration.ofSeconds(90)).assertSuccess();
    assertThat(calls(r)).hasSize(10).allSatisfy(c -> {
      assertThat(c.ok).as(c.toString()).isTrue();
      assertThat(c.rest).isEqualTo("v" + c.n);
    });
    List<ReceivedSpan> gets = spans("GET");
    assertThat(gets).hasSize(10).allSatisfy(s -> assertThat(s.statusCode).isEqualTo("UNSET"));
    List<ReceivedSpan> retried =
        gets.stream().filter(s -> s.attributes.containsKey("redis.client.operation.attempts")).collect(Collectors.toList());
    if (isLettuce(client)) {
      // Lettuce: the retry of a reset GET waits in the offline queue for the reconnect, and with
      // a 250 ms command timeout a slow reconnect (jittered delay + handshake) adds an attempt
      // there, or Lettuce writes again a command whose write failed on the dying channel; so
      // every reset GET took 2 or more attempts, each of them a recorded retry
      assertThat(retried).hasSizeGreaterThanOrEqualTo(5).allSatisfy(s -> {
        assertThat((Long) s.attributes.get("redis.client.operation.attempts")).isGreaterThanOrEqualTo(2L);
        assertThat(s.events).isNotEmpty().allSatisfy(e -> {
          assertThat(e.name).isEqualTo("redis.client.retry");
          assertThat(e.attributes.get("error.type")).isIn("connection", "timeout");
        });
      });
      assertThat(metric("redis.client.retries", attr("redis.client.retry.outcome", "success")
          .and(attr("db.operation.name", "GET")))).isGreaterThanOrEqualTo(5);
      assertThat(metric("redis.client.errors", attr("error.type", "connection"))).isGreaterThanOrEqualTo(5);
    } else {
      assertThat(retried).hasSize(5).allSatisfy(s -> {
        assertThat(s.attributes.get("redis.client.operation.attempts")).isEqualTo(2L);
        assertThat(s.events).singleElement().satisfies(e -> {
          assertThat(e.name).isEqualTo("redis.client.retry");
          assertThat(e.attributes.get("error.type")).isEqualTo("connection");
          assertThat(e.attributes.get("redis.client.retry.attempt")).isEqualTo(2L);
        });
      });
      assertThat(metric("redis.client.retries", attr("redis.client.retry.outcome", "success")
          .and(attr("error.type", "connection")).and(attr("db.operation.name", "GET")))).isEqualTo(5);
      assertThat(metric("redis.client.errors", attr("error.type", "connection"))).isEqualTo(5);
    }
    assertThat(metric("db.client.operation.duration", attr("db.operation.name", "GET").and(a -> a.containsKey("error.type"))))
        .isZero(); // recovered errors do not mark the duration metric as failed
  }

  @ParameterizedTest
  @ValueSource(strings = {"legacy", "lettuce-sync", "lettuce-async"})
  void incrWhoseReplyTimesOutFailsWithinItsBoundAndRunsOnce(String client) throws Exception {
    ForkedJvm jvm = app("incr", client, hostPort(), "3", "slow").sysProp("app.ready.pause.ms", "1500").build().start();
    OtlpReceiver.await(Duration.ofSeconds(30), "app ready", () -> jvm.stdout().contains("READY"));
    proxy.delayReplies(Duration.ofMillis(COMMAND_TIMEOUT_MS * 3));
    ForkedJvm.Result r = jvm.await(Duration.ofSeconds(60)).assertSuccess();
    proxy.clearFaults();
    Thread.sleep(1000); // delayed replies drain
    List<Call> calls = calls(r);
    assertThat(calls).hasSize(3).allSatisfy(c -> {
      assertThat(c.ok).as(c.toString()).isFalse();
      assertThat(c.rest).matches(
          isLettuce(client)
              ? "io\\.lettuce\\.core\\.RedisCommandTimeoutException .*"
              : "(redis\\.clients\\.jedis\\.exceptions\\.JedisConnectionException"
                  + "|dev\\.redisresilience\\.agent\\.instrumentation\\.jedis\\.AgentConnectionException) .*");
      assertThat(c.ms).isLessThan(CALL_BOUND_MS);
    });
    assertThat(redis.command("GET", "slow:1")).as("INCR 1 ran once, never twice").isEqualTo("1");
    List<ReceivedSpan> incrs = spans("INCR");
    assertThat(incrs).hasSize(3).allSatisfy(s -> assertThat(s.attributes.get("error.type")).isEqualTo("timeout"));
    assertThat(metric("redis.client.timeouts", attr("redis.client.timeout.kind", "command"))).isGreaterThanOrEqualTo(1);
    if (isLettuce(client)) {
      // Lettuce keeps the connection (the late replies still arrive in order): every INCR was
      // sent, timed out, was not re-run, and ran on the server exactly once
      for (int i = 2; i <= 3; i++) {
        assertThat(redis.command("GET", "slow:" + i)).as("INCR %d ran exactly once", i).isEqualTo("1");
      }
      assertThat(incrs).allSatisfy(s -> assertThat(refusals(s, "not_idempotent")).isEqualTo(1));
      return;
    }
    // Jedis: the first INCR is sent and its reply times out; the connection is then replaced, and
    // with every reply late the replacement's handshake times out too, so the later INCRs are
    // never sent at all (never on a socket without its handshake): all fail, none runs twice
    for (int i = 2; i <= 3; i++) {
      assertThat(redis.command("GET", "slow:" + i)).as("INCR %d ran at most once", i).isIn("(nil)", "1");
    }
    assertThat(incrs).filteredOn(s -> refusals(s, "not_idempotent") == 1).hasSize(1); // the one sent
    // the replacements' handshakes (connection set-up) timed out: connect-kind timeouts
    assertThat(metric("redis.client.timeouts", attr("redis.client.timeout.kind", "connect"))).isGreaterThanOrEqualTo(2);
  }

  @ParameterizedTest
  @ValueSource(strings = {"legacy", "lettuce-sync", "lettuce-async"})
  void blockingCommandIsNotCutByASmallerCommandTimeout(String client) throws Exception {
    ForkedJvm.Result r =
        app("blpop", client, "127.0.0.1:" + redis.port(), "5")
            .sysProp("redis.resilience.timeout.command", "1s")
            .run(Duration.ofSeconds(60))
            .assertSuccess();
    assertThat(calls(r)).singleElement().satisfies(c -> {
      assertThat(c.ok).as(c.toString()).isTrue();
      assertThat(c.rest).isEqualTo("null");
      assertThat(c.ms).isBetween(5000L, 5900L);
    });
    assertThat(spans("BLPOP")).singleElement().satisfies(s -> assertThat(s.statusCode).isEqualTo("UNSET"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"pool", "lettuce-sync", "lettuce-async"})
  void injectedLoadingIsRetriedAndWrongtypeIsNot(String client) throws Exception {
    for (int i = 1; i <= 5; i++) {
      redis.command("SET", "l:" + i, "v" + i);
    }
    // three LOADING replies in a row: the first GET is retried three times and then succeeds
    proxy.injectError("GET", "LOADING Redis is loading the dataset in memory", 3);
    ForkedJvm.Result loading = app("get", client, hostPort(), "5", "l").run(Duration.ofSeconds(60)).assertSuccess();
    assertThat(calls(loading)).hasSize(5).allSatisfy(c -> assertThat(c.ok).as(c.toString()).isTrue());
    assertThat(calls(loading).get(0).rest).isEqualTo("v1");
    assertThat(metric("redis.client.retries", attr("error.type", "LOADING").and(attr("redis.client.retry.outcome", "failure"))))
        .isEqualTo(2);
    assertThat(metric("redis.client.retries", attr("error.type", "LOADING").and(attr("redis.client.retry.outcome", "success"))))
        .isEqualTo(1);
    assertThat(receiver.spans(s -> "GET l:1".equals(s.attributes.get("db.query.text"))))
        .singleElement()
        .satisfies(s -> {
          assertThat(s.statusCode).isEqualTo("UNSET");
          assertThat(s.attributes.get("redis.client.operation.attempts")).isEqualTo(4L);
        });

    receiver.clear();
    proxy.injectError("GET", "WRONGTYPE Operation against a key holding the wrong kind of value", 2);
    ForkedJvm.Result wrongtype = app("get", client, hostPort(), "3", "l").run(Duration.ofSeconds(60)).assertSuccess();
    List<Call> calls = calls(wrongtype);
    String dataError =
        isLettuce(client)
            ? "io.lettuce.core.RedisCommandExecutionException WRONGTYPE"
            : "redis.clients.jedis.exceptions.JedisDataException WRONGTYPE";
    assertThat(calls.get(0).rest).startsWith(dataError);
    assertThat(calls.get(1).rest).startsWith(dataError);
    assertThat(calls.get(2).ok).isTrue();
    List<ReceivedSpan> failed = receiver.spans(s -> "ERROR".equals(s.statusCode));
    assertThat(failed).hasSize(2).allSatisfy(s -> {
      assertThat(s.attributes.get("error.type")).isEqualTo("WRONGTYPE");
      assertThat(s.attributes.get("db.response.status_code")).isEqualTo("WRONGTYPE");
      assertThat(s.events).isEmpty(); // not retried, and no refusal to report either
    });
    assertThat(metric("redis.client.retries", attr("error.type", "WRONGTYPE"))).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"pool", "lettuce-sync", "lettuce-async"})
  void killDashNineAndRestartRecoversByItselfWithReconnectsAndDowntimeRecorded(String client) throws Exception {
    ForkedJvm jvm = app("load", client, "127.0.0.1:" + redis.port(), "15", "4").build().start();
    // commands flowing, not just the app started: the outage starts at the first failed connect,
    // which must come right after the kill for the downtime to match the 3 s gap
    java.util.regex.Pattern running = java.util.regex.Pattern.compile("TICK \\d+ ok=[1-9]");
    OtlpReceiver.await(Duration.ofSeconds(30), "load running", () -> running.matcher(jvm.stdout()).find());
    redis.kill9();
    Thread.sleep(3000);
    redis.startProcess(); // same port, empty dataset
    ForkedJvm.Result r = jvm.await(Duration.ofSeconds(60)).assertSuccess();
    List<String> ticks = r.linesStartingWith("TICK ");
    assertRecovered(ticks);
    Thread.sleep(500);
    assertThat(metric("redis.client.reconnects", attr("redis.client.reconnect.outcome", "success"))).isGreaterThanOrEqualTo(1);
    double downtimes = receiver.total("redis.client.connection.downtime", a -> true);
    assertThat(downtimes).isGreaterThanOrEqualTo(1);
    double seconds =
        receiver.latestPoints("redis.client.connection.downtime").stream().mapToDouble(p -> p.sum).sum() / downtimes;
    // at least the 3 s outage; at most the outage, the restart and one reconnect wait, which
    // the backoff's jitter may make as long as reconnect.backoff.max (10 s; seen: 6 s once)
    assertThat(seconds)
        .as("mean downtime; " + receiver.latestPoints("redis.client.connection.downtime") + receiver.logs())
        .isBetween(2.5, 14.0);
    List<ReceivedLog> logs = receiver.logs();
    assertThat(logs).extracting(l -> l.eventName).contains("redis.client.connection.down", "redis.client.connection.restored");
  }

  @ParameterizedTest
  @ValueSource(strings = {"unified", "lettuce-async"})
  void fullOutageStopsRetriesAtTheBudgetAndThreadsDoNotPileUp(String client) throws Exception {
    // RedisClient: connections are made inside each call, so the agent sees (and budgets) the
    // failed connects; with a JedisPool the application borrows before calling Redis. Lettuce:
    // commands wait in its offline queue and time out, and those timeouts take from the budget.
    // Lettuce reconnects after the outage within the agent's reconnect.backoff.max (10 s): its
    // run is longer, so that the reconnect and some seconds of recovered load fall inside it
    String seconds = isLettuce(client) ? "55" : "40";
    long startNanos = System.nanoTime();
    ForkedJvm jvm = app("load", client, hostPort(), seconds, "8").build().start();
    OtlpReceiver.await(Duration.ofSeconds(30), "load running", () -> jvm.stdout().contains("TICK 3 "));
    double retriesBefore = metric("redis.client.retries", attr("redis.client.retry.outcome", "success")
        .or(attr("redis.client.retry.outcome", "failure")));
    proxy.refuseConnections(true);
    proxy.resetAllConnections();
    Thread.sleep(30_000);
    double retriesDuring = metric("redis.client.retries", attr("redis.client.retry.outcome", "success")
        .or(attr("redis.client.retry.outcome", "failure"))) - retriesBefore;
    proxy.refuseConnections(false);
    ForkedJvm.Result r = jvm.await(Duration.ofSeconds(60)).assertSuccess();

    List<String> ticks = r.linesStartingWith("TICK ");
    int baseline = threadsOf(ticks.get(1));
    // during the outage (the exporter may add connections afterwards, when traffic is back)
    int peak = ticks.subList(0, Math.min(ticks.size(), 34)).stream().mapToInt(FaultSuiteIT::threadsOf).max().getAsInt();
    // Lettuce starts the threads of its event-loop groups lazily, as connections and reconnects
    // need them: up to 3 + 3 more here (ioThreadPoolSize, computationThreadPoolSize), bounded
    int lazyClientThreads = isLettuce(client) ? 6 : 0;
    assertThat(peak).as(String.join("\n", ticks) + "\n" + r.linesStartingWith("THREADS"))
        .isLessThanOrEqualTo(baseline + 4 + lazyClientThreads);
    String load = r.linesStartingWith("LOAD ").get(0);
    long maxCallMs = Long.parseLong(load.replaceAll(".*maxCallMs=(\\d+).*", "$1"));
    assertThat(maxCallMs).as(load).isLessThan(CALL_BOUND_MS);
    // 8 threads failing for 30 s made thousands of calls; the budget let only a handful retry
    assertThat(retriesDuring).as("retries during the outage").isLessThanOrEqualTo(20);
    assertThat(metric("redis.client.retry.budget.exhausted", a -> true)).isGreaterThan(100);
    assertThat(receiver.logs()).extracting(l -> l.eventName).contains("redis.client.retry.budget.exhausted");
    assertRecovered(ticks);
    // many failed connects (Jedis: one per call; Lettuce: one per jittered reconnect), but the
    // log pipeline got at most 5 records a second of them
    long runSeconds = (System.nanoTime() - startNanos) / 1_000_000_000L + 1;
    long failedRecords =
        receiver.logs().stream().filter(l -> "redis.client.connection.failed".equals(l.eventName)).count();
    double failedSuppressed =
        metric("redis.client.events.suppressed", attr("event.name", "redis.client.connection.failed"));
    assertThat(failedRecords).isGreaterThan(0).isLessThanOrEqualTo(5 * runSeconds);
    if (!isLettuce(client)) {
      assertThat(failedSuppressed).isGreaterThan(100);
    }
    System.out.printf(
        client + " full outage: %d connection.failed records in %d s, %.0f suppressed%n",
        failedRecords, runSeconds, failedSuppressed);
    System.out.printf(
        client + " full outage: peak threads %d (baseline %d), slowest call %d ms, retries during 30s outage %.0f, budget"
            + " refusals %.0f%n",
        peak, baseline, maxCallMs, retriesDuring, metric("redis.client.retry.budget.exhausted", a -> true));
  }

  /**
   * The app recovered by itself: over its last 5 full seconds of load, calls succeed again and
   * (almost) none fail — a rare timeout on a loaded 2-core machine is not an outage.
   */
  static void assertRecovered(List<String> ticks) {
    List<String> last = ticks.subList(Math.max(0, ticks.size() - 6), ticks.size() - 1);
    long ok = last.stream().mapToLong(t -> Long.parseLong(t.replaceAll(".* ok=(\\d+).*", "$1"))).sum();
    long fail = last.stream().mapToLong(t -> Long.parseLong(t.replaceAll(".* fail=(\\d+).*", "$1"))).sum();
    assertThat(ok).as(String.join("\n", ticks)).isGreaterThan(100);
    assertThat(fail).as(String.join("\n", ticks)).isLessThanOrEqualTo(ok / 100);
  }

  static int threadsOf(String tick) {
    return Integer.parseInt(tick.replaceAll(".*threads=(\\d+).*", "$1"));
  }

  /**
   * Lettuce with {@code offline-queue=reject} (node-redis' disableOfflineQueue): while the
   * connection is down a call fails at once, classified as a connection error, and is not retried
   * behind the app's back. (Jedis has no offline queue: a call while down fails at its connect.)
   */
  @ParameterizedTest
  @ValueSource(strings = {"lettuce-sync", "lettuce-async"})
  void offlineQueueRejectFailsCallsAtOnceWhileDisconnected(String client) throws Exception {
    ForkedJvm jvm =
        app("get", client, hostPort(), "5", "q")
            .sysProp("redis.resilience.offline-queue", "reject")
            .sysProp("app.ready.pause.ms", "1500")
            .build()
            .start();
    OtlpReceiver.await(Duration.ofSeconds(30), "app ready", () -> jvm.stdout().contains("READY"));
    proxy.refuseConnections(true);
    proxy.resetAllConnections();
    ForkedJvm.Result r = jvm.await(Duration.ofSeconds(60)).assertSuccess();
    List<Call> calls = calls(r);
    assertThat(calls).hasSize(5).allSatisfy(c -> {
      assertThat(c.ok).as(c.toString()).isFalse();
      assertThat(c.rest).startsWith("io.lettuce.core.RedisException Currently not connected");
      assertThat(c.ms).as(c.toString()).isLessThan(200);
    });
    List<ReceivedSpan> gets = receiver.spans(s -> String.valueOf(s.attributes.get("db.query.text")).startsWith("GET q:"));
    assertThat(gets).hasSize(5).allSatisfy(s -> {
      assertThat(s.attributes.get("error.type")).isEqualTo("connection");
      assertThat(s.events).isEmpty();
    });
    assertThat(metric("redis.client.retries", attr("db.operation.name", "GET"))).isZero();
  }
}
