package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.OtlpReceiver;
import dev.redisresilience.harness.ReceivedSpan;
import dev.redisresilience.harness.RedisServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * telemetry.spans.sampling=interesting on the packaged jar, attached with -javaagent to a forked
 * Lettuce app, exporting over OTLP http/protobuf: only the failed command's span arrives at ratio
 * 0, every operation is still measured, and the spans not kept are counted.
 */
class InterestingSpansIT {
  static RedisServer redis;
  static OtlpReceiver receiver;

  static final String[] APP_RESULTS = {
    "sync-get=s", "sync-incr=1", "async-get=a", "reactive-get=r", "wrongtype=WRONGTYPE", "tx=2", "done"
  };

  @BeforeAll
  static void start() {
    redis = RedisServer.start();
    receiver = OtlpReceiver.startHttpOnly();
  }

  @AfterAll
  static void stop() {
    receiver.close();
    redis.close();
  }

  @BeforeEach
  void clean() {
    receiver.clear();
    redis.flushAll();
  }

  ForkedJvm.Builder lettuceApp() {
    return SmokeSupport.withAgent(
            SmokeSupport.plainApp("plain-lettuce-app", "dev.redisresilience.apps.lettuce.PlainLettuceApp"),
            receiver,
            "http/protobuf")
        .args(String.valueOf(redis.port()));
  }

  @Test
  void atRatioZeroOnlyTheFailedOperationsSpanIsExportedAndEveryOperationIsMeasured() {
    ForkedJvm.Result r =
        lettuceApp()
            .sysProp("redis.resilience.telemetry.spans.sampling", "interesting")
            .env("REDIS_RESILIENCE_TELEMETRY_SPANS_SAMPLING_RATIO", "0")
            .sysProp("redis.resilience.telemetry.spans.sampling.slow", "1m") // no start-up slowness
            .run(Duration.ofSeconds(60))
            .assertSuccess();
    assertThat(r.linesStartingWith("RESULT ")).containsExactly(APP_RESULTS);
    assertThat(r.agentLines())
        .singleElement()
        .asString()
        .contains(
            "non-default settings: telemetry.spans.sampling=interesting (system property),"
                + " telemetry.spans.sampling.ratio=0.0 (environment), telemetry.spans.sampling.slow=1m"
                + " (system property)");
    List<ReceivedSpan> spans = receiver.spans();
    assertThat(spans).singleElement().satisfies(s -> {
      assertThat(s.statusCode).isEqualTo("ERROR");
      assertThat(s.attributes).containsEntry("error.type", "WRONGTYPE");
      assertThat(s.attributes.get("db.query.text")).isNotNull();
    });
    assertThat(receiver.total("db.client.operation.duration", a -> true)).isEqualTo(15);
    assertThat(receiver.total("redis.resilience.agent.spans.sampled_out", a -> true)).isEqualTo(14);
  }

  @Test
  void atRatioOneEverySpanIsExported() {
    ForkedJvm.Result r =
        lettuceApp()
            .env("REDIS_RESILIENCE_TELEMETRY_SPANS_SAMPLING", "interesting")
            .env("REDIS_RESILIENCE_TELEMETRY_SPANS_SAMPLING_RATIO", "1")
            .run(Duration.ofSeconds(60))
            .assertSuccess();
    assertThat(r.linesStartingWith("RESULT ")).containsExactly(APP_RESULTS);
    assertThat(receiver.spans()).hasSize(15);
    assertThat(receiver.total("redis.resilience.agent.spans.sampled_out", a -> true)).isZero();
  }
}
