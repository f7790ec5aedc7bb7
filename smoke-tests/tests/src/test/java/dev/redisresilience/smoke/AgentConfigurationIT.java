package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.OtlpReceiver;
import dev.redisresilience.harness.Ports;
import dev.redisresilience.harness.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Configuration as a user sets it, and the agent's fail-safe behaviour, on the packaged jar. */
class AgentConfigurationIT {
  static RedisServer redis;
  static OtlpReceiver receiver;
  @TempDir Path dir;

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
  void disabledAgentIsANoOp() {
    long requestsBefore = receiver.httpRequests();
    ForkedJvm.Result r =
        lettuceApp().sysProp("redis.resilience.enabled", "false").run(Duration.ofSeconds(60)).assertSuccess();
    assertThat(r.linesStartingWith("RESULT ")).containsExactly(APP_RESULTS);
    assertThat(r.agentLines())
        .containsExactly(
            "[redis-resilience-agent] "
                + Versions.agent()
                + " disabled (redis.resilience.enabled=false); doing nothing");
    assertThat(receiver.httpRequests()).isEqualTo(requestsBefore);
  }

  @Test
  void perClientSwitchFromTheEnvironment() {
    ForkedJvm.Result r =
        lettuceApp().env("REDIS_RESILIENCE_LETTUCE_ENABLED", "false").run(Duration.ofSeconds(60)).assertSuccess();
    assertThat(r.linesStartingWith("RESULT ")).containsExactly(APP_RESULTS);
    assertThat(r.agentLines())
        .singleElement()
        .asString()
        .endsWith(
            "started; instrumenting jedis; non-default settings: lettuce.enabled=false (environment)");
    assertThat(receiver.spans()).isEmpty();
  }

  @Test
  void invalidAndUnknownSettingsGiveOneClearLineEachAndTheAppRuns() throws Exception {
    Path file = dir.resolve("agent.properties");
    Files.writeString(
        file,
        "redis.resilience.telemetry.query-text=off\nredis.resilience.telemetry.query-text.max-length=many\n");
    ForkedJvm.Result r =
        lettuceApp()
            .sysProp("redis.resilience.config.file", file.toString())
            .sysProp("redis.resilience.lettuce.enabeld", "true")
            .run(Duration.ofSeconds(60))
            .assertSuccess();
    assertThat(r.linesStartingWith("RESULT ")).containsExactly(APP_RESULTS);
    assertThat(r.agentLines())
        .containsExactly(
            "[redis-resilience-agent] warn: unknown key redis.resilience.lettuce.enabeld (system"
                + " property); ignored - did you mean redis.resilience.lettuce.enabled?",
            "[redis-resilience-agent] warn: invalid value for"
                + " redis.resilience.telemetry.query-text.max-length (config file): \"many\" - expected"
                + " an integer from 16 to 32768; using the default 256",
            "[redis-resilience-agent] "
                + Versions.agent()
                + " started; instrumenting jedis, lettuce;"
                + " non-default settings: config.file="
                + file
                + " (system property), telemetry.query-text=off (config file)");
    assertThat(receiver.spans()).hasSize(15).allSatisfy(s -> assertThat(s.attributes).doesNotContainKey("db.query.text"));
  }

  @Test
  void otelSettingsComeFromTheSdkAutoconfiguration() {
    ForkedJvm.Result r =
        lettuceApp()
            .env("OTEL_SERVICE_NAME", "checkout")
            .env("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=test")
            .env("OTEL_METRICS_EXPORTER", "none")
            .run(Duration.ofSeconds(60))
            .assertSuccess();
    assertThat(r.linesStartingWith("RESULT ")).containsExactly(APP_RESULTS);
    assertThat(receiver.spans()).hasSize(15).allSatisfy(s -> {
      assertThat(s.resource).containsEntry("service.name", "checkout");
      assertThat(s.resource).containsEntry("deployment.environment.name", "test");
    });
    assertThat(receiver.metricExports()).isEmpty();
  }

  @Test
  void invalidOtelConfigurationKeepsTheAppRunning() {
    long requestsBefore = receiver.httpRequests();
    ForkedJvm.Result r =
        lettuceApp().env("OTEL_TRACES_EXPORTER", "carrier-pigeon").run(Duration.ofSeconds(60)).assertSuccess();
    assertThat(r.linesStartingWith("RESULT ")).containsExactly(APP_RESULTS);
    // the start-up line (premain) and the warning (background set-up), in either order
    assertThat(r.agentLines()).hasSize(2);
    assertThat(r.agentLines())
        .anySatisfy(l -> assertThat(l).contains("started; instrumenting jedis, lettuce"))
        .anySatisfy(l -> assertThat(l)
            .startsWith("[redis-resilience-agent] warn: telemetry disabled, OpenTelemetry configuration is invalid:")
            .contains("carrier-pigeon"));
    assertThat(receiver.httpRequests()).isEqualTo(requestsBefore);
  }

  @Test
  void unreachableCollectorNeverFailsOrHangsTheApp() {
    int nobody = Ports.free();
    ForkedJvm.Result r =
        SmokeSupport.plainApp("plain-lettuce-app", "dev.redisresilience.apps.lettuce.PlainLettuceApp")
            .agent(ForkedJvm.agentJar())
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:" + nobody)
            .env("OTEL_BSP_SCHEDULE_DELAY", "50")
            .env("OTEL_METRIC_EXPORT_INTERVAL", "250")
            .args(String.valueOf(redis.port()))
            .run(Duration.ofSeconds(30)) // liveness guard, not a performance claim
            .assertSuccess();
    assertThat(r.linesStartingWith("RESULT ")).containsExactly(APP_RESULTS);
    assertThat(r.stderr).doesNotContain("Exception in thread");
  }

  @Test
  void jedisAppWithLettuceSwitchedOffStillReportsJedis() {
    ForkedJvm.Result r =
        SmokeSupport.withAgent(
                SmokeSupport.plainApp("plain-jedis-app", "dev.redisresilience.apps.jedis.PlainJedisApp"),
                receiver,
                "http/protobuf")
            .sysProp("redis.resilience.lettuce.enabled", "false")
            .args(String.valueOf(redis.port()))
            .run(Duration.ofSeconds(60))
            .assertSuccess();
    assertThat(r.linesStartingWith("RESULT ")).contains("done");
    assertThat(SmokeSupport.nameCounts(receiver.spans()))
        .contains(entry("PIPELINE" + SmokeSupport.hp(redis), 1L));
    assertThat(receiver.spans()).hasSize(16);
  }
}
