package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TransactionResult;
import io.lettuce.core.api.StatefulRedisConnection;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A WATCH abort (EXEC answers null) is classified as redis-py's WatchError, never retried. */
class LettuceTransactionsTest {
  static final AttributeKey<String> ERROR = AttributeKey.stringKey("error.type");
  static RedisServer server;
  static RedisClient client;

  @BeforeAll
  static void start() {
    server = RedisServer.start();
    client = RedisClient.create(RedisURI.create("127.0.0.1", server.port()));
  }

  @AfterAll
  static void stop() {
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    server.close();
  }

  @BeforeEach
  void reset() {
    server.flushAll();
  }

  static long watchAborts() {
    return TestTelemetry.counter("redis.client.errors", TestTelemetry.attr("error.type", "watch_aborted"));
  }

  @ParameterizedTest
  @EnumSource(LettuceApi.class)
  void execAfterAChangedWatchedKeyIsAWatchAbort(LettuceApi api) throws Exception {
    try (StatefulRedisConnection<String, String> c = client.connect()) {
      long before = watchAborts();
      TestTelemetry.reset();
      TransactionResult result;
      switch (api) {
        case SYNC:
          c.sync().watch("w");
          server.command("SET", "w", "changed"); // another client: the transaction must not run
          c.sync().multi();
          c.sync().incr("w");
          result = c.sync().exec();
          break;
        case ASYNC:
          c.async().watch("w").get(5, TimeUnit.SECONDS);
          server.command("SET", "w", "changed");
          c.async().multi().get(5, TimeUnit.SECONDS);
          c.async().incr("w");
          result = c.async().exec().get(5, TimeUnit.SECONDS);
          break;
        default:
          c.reactive().watch("w").block(Duration.ofSeconds(5));
          server.command("SET", "w", "changed");
          c.reactive().multi().block(Duration.ofSeconds(5));
          c.reactive().incr("w").subscribe();
          result = c.reactive().exec().block(Duration.ofSeconds(5));
      }
      assertThat(result.wasDiscarded()).isTrue();
      assertThat(server.command("GET", "w")).isEqualTo("changed");
      SpanData exec = LettuceReplaySafetyTest.spanOf("EXEC");
      assertThat(exec.getAttributes().get(ERROR)).isEqualTo("watch_aborted");
      assertThat(exec.getEvents()).isEmpty(); // no retry, no refusal to report
      assertThat(watchAborts() - before).isEqualTo(1);
    }
  }
}
