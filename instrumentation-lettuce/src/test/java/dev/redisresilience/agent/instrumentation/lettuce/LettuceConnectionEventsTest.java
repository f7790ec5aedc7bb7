package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.lettuce.core.event.connection.ConnectionDeactivatedEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

/**
 * Lettuce's connection events as log records with the server's address: a killed connection
 * (disconnected, reconnect attempt, connected), a server crash (failed attempts, down, restored).
 */
class LettuceConnectionEventsTest {
  static final String HOST = "127.0.0.1";
  static final AttributeKey<Long> PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("redis.client.reconnect.attempt");
  static final AttributeKey<Double> DELAY = AttributeKey.doubleKey("redis.client.reconnect.delay");
  RedisServer server;
  RedisClient client;

  @BeforeEach
  void start() {
    server = RedisServer.start();
    client = RedisClient.create(RedisURI.create(HOST, server.port()));
  }

  @AfterEach
  void stop() {
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    server.close();
  }

  /** This server's connection event records so far (other tests' clients may still report). */
  List<LogRecordData> records() {
    return TestTelemetry.logs().stream()
        .filter(l -> Long.valueOf(server.port()).equals(l.getAttributes().get(PORT)))
        .collect(Collectors.toList());
  }

  List<String> names() {
    return records().stream().map(LogRecordData::getEventName).collect(Collectors.toList());
  }

  /** Waits (bounded) until a record {@code name} for this server is there: events come from the event loop. */
  void awaitRecord(String name) {
    for (int i = 0; i < 500 && !names().contains(name); i++) {
      TestTelemetry.sleep(10);
    }
  }

  Attributes serverAttributes() {
    return Attributes.builder()
        .put("db.system.name", "redis")
        .put("server.address", HOST)
        .put("server.port", (long) server.port())
        .build();
  }

  @Test
  void aKilledConnectionIsDisconnectedThenReconnected() throws Exception {
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      c.sync().set("k", "v");
      awaitRecord("redis.client.connection.connected");
      assertThat(names()).containsExactly("redis.client.connection.connected");
      TestTelemetry.reset();

      assertThat(server.command("CLIENT", "KILL", "TYPE", "normal")).isEqualTo(":1");
      awaitRecord("redis.client.connection.connected");
      assertThat(c.sync().get("k")).isEqualTo("v");

      assertThat(names())
          .containsExactly(
              "redis.client.connection.disconnected",
              "redis.client.connection.reconnect_attempt",
              "redis.client.connection.connected");
      List<LogRecordData> r = records();
      assertThat(r.get(0).getAttributes()).isEqualTo(serverAttributes());
      assertThat(r.get(0).getBodyValue().asString()).isEqualTo("disconnected from " + HOST + ":" + server.port());
      Attributes attempt = r.get(1).getAttributes();
      assertThat(attempt.get(ATTEMPT)).isEqualTo(1L);
      // the agent's jittered delay: the first attempt waits up to reconnect.backoff.base (100 ms)
      assertThat(attempt.get(DELAY)).isBetween(0.0, 0.1);
      assertThat(attempt.toBuilder().remove(ATTEMPT).remove(DELAY).build()).isEqualTo(serverAttributes());
      assertThat(r.get(2).getAttributes()).isEqualTo(serverAttributes());
    }
  }

  @Test
  void aServerCrashIsFailedAttemptsThenRestored() throws Exception {
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      c.sync().set("k", "v");
      awaitRecord("redis.client.connection.connected");
      long failedReconnectsBefore =
          TestTelemetry.counter(
              "redis.client.reconnects",
              TestTelemetry.attr("server.port", server.port())
                  .and(TestTelemetry.attr("redis.client.reconnect.outcome", "failure")));
      long suppressedBefore = suppressedFailures();
      TestTelemetry.reset();

      server.kill9();
      TestTelemetry.sleep(1500); // Lettuce keeps reconnecting, and failing
      server.startProcess();
      c.setTimeout(Duration.ofSeconds(15));
      assertThat(c.sync().incr("after-restart")).isEqualTo(1); // buffered until reconnected
      awaitRecord("redis.client.connection.connected");

      List<String> names = names();
      assertThat(names.get(0)).isEqualTo("redis.client.connection.disconnected");
      assertThat(names.subList(names.size() - 2, names.size()))
          .containsExactly("redis.client.connection.restored", "redis.client.connection.connected");
      assertThat(names).containsOnlyOnce("redis.client.connection.down");
      assertThat(names.indexOf("redis.client.connection.down"))
          .isGreaterThan(names.indexOf("redis.client.connection.reconnect_attempt"));

      // every failed attempt is a record or counted as suppressed: the first one started the
      // outage, each later one is also a failed reconnect
      long failedReconnects =
          TestTelemetry.counter(
                  "redis.client.reconnects",
                  TestTelemetry.attr("server.port", server.port())
                      .and(TestTelemetry.attr("redis.client.reconnect.outcome", "failure")))
              - failedReconnectsBefore;
      long failedRecords = names.stream().filter("redis.client.connection.failed"::equals).count();
      assertThat(failedRecords).isGreaterThanOrEqualTo(1);
      assertThat(failedRecords + suppressedFailures() - suppressedBefore).isEqualTo(failedReconnects + 1);

      LogRecordData failed =
          records().stream()
              .filter(l -> l.getEventName().equals("redis.client.connection.failed"))
              .findFirst()
              .get();
      assertThat(failed.getAttributes().get(AttributeKey.stringKey("error.type"))).isEqualTo("connection");
      assertThat(failed.getAttributes().get(ATTEMPT)).isEqualTo(1L);

      // each attempt waits at most min(max, base * 2^(attempt-1)): 100 ms doubling, up to 10 s
      for (LogRecordData l : records()) {
        if (l.getEventName().equals("redis.client.connection.reconnect_attempt")) {
          long n = l.getAttributes().get(ATTEMPT);
          double bound = Math.min(10.0, 0.1 * Math.pow(2, n - 1));
          assertThat(l.getAttributes().get(DELAY)).as("attempt " + n).isBetween(0.0, bound);
        }
      }
    }
  }

  @Test
  void everyEventOfABurstIsCountedWhileLettucesOwnSubscriberDropsThem() throws Exception {
    int n = 200;
    List<StatefulRedisConnection<String, String>> connections = new ArrayList<>();
    AtomicInteger seenBySubscriber = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    Disposable subscriber = null;
    try {
      for (int i = 0; i < n; i++) {
        StatefulRedisConnection<String, String> c = client.connect();
        connections.add(c);
        c.sync().ping();
      }
      long suppressedBefore = suppressed("redis.client.connection.disconnected");
      TestTelemetry.reset();
      // an application's EventBus subscriber that lags: Lettuce drops what does not fit its buffer
      subscriber =
          client.getResources().eventBus().get()
              .filter(e -> e instanceof ConnectionDeactivatedEvent)
              .subscribe(
                  e -> {
                    seenBySubscriber.incrementAndGet();
                    try {
                      release.await(20, TimeUnit.SECONDS);
                    } catch (InterruptedException ex) {
                      Thread.currentThread().interrupt();
                    }
                  });

      assertThat(server.command("CLIENT", "KILL", "TYPE", "normal")).isEqualTo(":" + n);
      for (int i = 0; i < 1000 && disconnects(suppressedBefore) < n; i++) {
        TestTelemetry.sleep(10);
      }
      // all n as records or counted by the rate limit (5 records a second, the rest suppressed)
      assertThat(disconnects(suppressedBefore)).isEqualTo(n);
      assertThat(names().stream().filter("redis.client.connection.disconnected"::equals).count())
          .isBetween(5L, n / 2L); // the rate limit cut the storm
      release.countDown();
      TestTelemetry.sleep(500);
      System.out.printf(
          "burst of %d disconnects: %d records, Lettuce's lagging subscriber saw %d%n",
          n, names().stream().filter("redis.client.connection.disconnected"::equals).count(), seenBySubscriber.get());
      assertThat(seenBySubscriber.get()).isLessThan(n);
      for (StatefulRedisConnection<String, String> c : connections) {
        assertThat(c.sync().ping()).isEqualTo("PONG"); // every connection came back
      }
    } finally {
      release.countDown();
      if (subscriber != null) {
        subscriber.dispose();
      }
      connections.forEach(StatefulRedisConnection::close);
    }
  }

  /** Disconnected records since the last reset plus those the rate limit suppressed since then. */
  long disconnects(long suppressedBefore) {
    return names().stream().filter("redis.client.connection.disconnected"::equals).count()
        + suppressed("redis.client.connection.disconnected")
        - suppressedBefore;
  }

  long suppressed(String eventName) {
    return TestTelemetry.counter(
        "redis.client.events.suppressed",
        TestTelemetry.attr("server.port", server.port()).and(TestTelemetry.attr("event.name", eventName)));
  }

  long suppressedFailures() {
    return suppressed("redis.client.connection.failed");
  }
}
