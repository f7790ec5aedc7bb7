package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.OtlpReceiver;
import dev.redisresilience.harness.ReceivedSpan;
import dev.redisresilience.harness.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An app with its own OpenTelemetry SDK (exporting over its own OkHttp) and its own ByteBuddy,
 * other versions than the agent's (see own-otel-app/pom.xml): both keep working unchanged, and
 * the agent's telemetry still arrives.
 */
class OwnOpenTelemetryAppIT {
  static RedisServer redis;
  static OtlpReceiver receiver;

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

  @Test
  void appsOwnSdkAndByteBuddyKeepWorkingAndAgentTelemetryArrives() {
    String appOtel = Versions.appJar("own-otel-app", "opentelemetry-sdk");
    String appByteBuddy = Versions.appJar("own-otel-app", "byte-buddy");
    // the point of the app: other versions than the agent's, side by side with them
    assertThat(appOtel).isNotEqualTo(Versions.agentOpenTelemetry());
    assertThat(appByteBuddy).isNotEqualTo(Versions.agentByteBuddy());
    ForkedJvm.Result r =
        SmokeSupport.withAgent(
                SmokeSupport.plainApp("own-otel-app", "dev.redisresilience.apps.ownotel.OwnOtelApp"),
                receiver,
                "http/protobuf")
            .args(String.valueOf(redis.port()), receiver.httpEndpoint())
            .run(Duration.ofSeconds(60))
            .assertSuccess();
    assertThat(r.linesStartingWith("RESULT "))
        .containsExactly(
            "bytebuddy=made by the app's own ByteBuddy",
            "bytebuddy-jar=byte-buddy-" + appByteBuddy + ".jar",
            "get=own-value",
            "app-span-valid=true",
            "done");

    List<ReceivedSpan> appSpans =
        receiver.spans(s -> "own-otel-app-itself".equals(s.resource.get("service.name")));
    assertThat(appSpans).singleElement().satisfies(s -> {
      assertThat(s.name).isEqualTo("app-own-work");
      assertThat(s.scope).isEqualTo("own-otel-app");
      assertThat(s.resource).containsEntry("telemetry.sdk.version", appOtel);
    });

    String hp = SmokeSupport.hp(redis);
    List<ReceivedSpan> agentSpans =
        receiver.spans(s -> "own-otel-app".equals(s.resource.get("service.name")));
    assertThat(SmokeSupport.nameCounts(agentSpans)).containsExactly(entry("GET" + hp, 1L), entry("SET" + hp, 1L));
    assertThat(agentSpans.stream().map(s -> s.resource.get("telemetry.sdk.version")).collect(Collectors.toSet()))
        .containsExactly(Versions.agentOpenTelemetry());
    // joining the application's trace comes later: for now the agent's spans are roots
    assertThat(agentSpans).allSatisfy(s -> assertThat(s.parentSpanId).isEmpty());
  }
}
