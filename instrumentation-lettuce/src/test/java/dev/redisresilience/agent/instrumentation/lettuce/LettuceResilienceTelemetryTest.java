package dev.redisresilience.agent.instrumentation.lettuce;

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
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The resilience metrics and events Jedis reports, with the same names and meaning for Lettuce:
 * failed attempts by error.type, timeouts by kind, reconnects and downtime after an outage.
 */
class LettuceResilienceTelemetryTest {
  static final String HOST = "127.0.0.1";
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

  Predicate<Attributes> onServer() {
    return TestTelemetry.attr("server.address", HOST).and(TestTelemetry.attr("server.port", server.port()));
  }

  long errors(String type) {
    return TestTelemetry.counter("redis.client.errors", onServer().and(TestTelemetry.attr("error.type", type)));
  }

  long timeouts(String kind) {
    return TestTelemetry.counter(
        "redis.client.timeouts", onServer().and(TestTelemetry.attr("redis.client.timeout.kind", kind)));
  }

  long reconnects(String outcome) {
    return TestTelemetry.counter(
        "redis.client.reconnects", onServer().and(TestTelemetry.attr("redis.client.reconnect.outcome", outcome)));
  }

  @Test
  void errorRepliesAndTimeoutsAreCountedForEveryApi() throws Exception {
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      c.sync().hset("h", "f", "v");
      long wrongTypeBefore = errors("WRONGTYPE");
      long timeoutErrorsBefore = errors("timeout");
      long commandTimeoutsBefore = timeouts("command");
      long blockingTimeoutsBefore = timeouts("blocking");

      assertThatThrownBy(() -> c.sync().get("h")).isInstanceOf(RedisCommandExecutionException.class);
      assertThatThrownBy(() -> c.async().get("h").get()).hasCauseInstanceOf(RedisCommandExecutionException.class);
      assertThatThrownBy(() -> c.reactive().get("h").block(Duration.ofSeconds(5)))
          .isInstanceOf(RedisCommandExecutionException.class);
      c.setTimeout(Duration.ofMillis(200));
      server.command("CLIENT", "PAUSE", "700"); // no reply within the 200 ms
      try (PolicyOverride p = PolicyOverride.with("retry.max-attempts", "1")) { // one attempt, one timeout
        assertThatThrownBy(() -> c.sync().get("k")).isInstanceOf(RedisCommandTimeoutException.class);
      }
      TestTelemetry.sleep(800);

      assertThat(errors("WRONGTYPE") - wrongTypeBefore).isEqualTo(3);
      assertThat(errors("timeout") - timeoutErrorsBefore).isEqualTo(1);
      assertThat(timeouts("command") - commandTimeoutsBefore).isEqualTo(1);
      assertThat(timeouts("blocking") - blockingTimeoutsBefore).isEqualTo(0);
    }
  }

  @Test
  void outageAfterAServerCrashIsReportedWithItsDowntime() throws Exception {
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      c.sync().set("k", "v");
      long failedBefore = reconnects("failure");
      long succeededBefore = reconnects("success");
      long downtimeBefore = TestTelemetry.histogramCount("redis.client.connection.downtime", onServer());
      TestTelemetry.reset();

      server.kill9();
      TestTelemetry.sleep(1500); // Lettuce keeps reconnecting, and failing
      server.startProcess();
      c.setTimeout(Duration.ofSeconds(10));
      assertThat(c.sync().incr("after-restart")).isEqualTo(1); // buffered until reconnected

      List<String> events =
          TestTelemetry.logs().stream()
              .map(LogRecordData::getEventName)
              .filter(n -> n.equals("redis.client.connection.down") || n.equals("redis.client.connection.restored"))
              .collect(Collectors.toList());
      assertThat(events).containsExactly("redis.client.connection.down", "redis.client.connection.restored");
      assertThat(reconnects("failure") - failedBefore).isGreaterThanOrEqualTo(1);
      assertThat(reconnects("success") - succeededBefore).isEqualTo(1);
      assertThat(TestTelemetry.histogramCount("redis.client.connection.downtime", onServer()) - downtimeBefore)
          .isEqualTo(1);
    }
  }
}
