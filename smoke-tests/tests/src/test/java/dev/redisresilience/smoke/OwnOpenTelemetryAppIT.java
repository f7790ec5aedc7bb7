package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.OtlpReceiver;
import dev.redisresilience.harness.ReceivedSpan;
import dev.redisresilience.harness.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An app with its own OpenTelemetry SDK (exporting over its own OkHttp) and its own ByteBuddy,
 * other versions than the agent's (see own-otel-app/pom.xml): both keep working unchanged, and
 * the agent's telemetry still arrives. The agent's Redis spans (Jedis, Lettuce async) are children
 * of the app's own span; under an unsampled parent there are none, and the metrics are still exact.
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

  @BeforeEach
  void clear() {
    receiver.clear();
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
            "lettuce-set=OK",
            "lettuce-get=async-value",
            "unsampled-incr=3",
            "done");

    List<ReceivedSpan> appSpans =
        receiver.spans(s -> "own-otel-app-itself".equals(s.resource.get("service.name")));
    ReceivedSpan appSpan = appSpans.get(0);
    assertThat(appSpans).singleElement().satisfies(s -> {
      assertThat(s.name).isEqualTo("app-own-work");
      assertThat(s.scope).isEqualTo("own-otel-app");
      assertThat(s.resource).containsEntry("telemetry.sdk.version", appOtel);
    });

    String hp = SmokeSupport.hp(redis);
    OtlpReceiver.await(Duration.ofSeconds(10), "the agent's 4 spans", () -> agentSpans().size() >= 4);
    List<ReceivedSpan> agentSpans = agentSpans();
    // no INCR span: their parent was not sampled
    assertThat(SmokeSupport.nameCounts(agentSpans)).containsExactly(entry("GET" + hp, 2L), entry("SET" + hp, 2L));
    assertThat(agentSpans.stream().map(s -> s.resource.get("telemetry.sdk.version")).collect(Collectors.toSet()))
        .containsExactly(Versions.agentOpenTelemetry());
    // every one a child of the app's span, from both clients: same trace, its span as parent, its
    // W3C flags; a local parent (has-is-remote set, parent-is-remote not)
    assertThat(agentSpans.stream().map(s -> s.scope).collect(Collectors.toSet()))
        .containsExactlyInAnyOrder("dev.redisresilience.agent.jedis", "dev.redisresilience.agent.lettuce");
    assertThat(appSpan.traceId).hasSize(32).isNotEqualTo("0".repeat(32));
    assertThat(agentSpans).allSatisfy(s -> {
      assertThat(s.traceId).isEqualTo(appSpan.traceId);
      assertThat(s.parentSpanId).isEqualTo(appSpan.spanId);
      assertThat(s.spanId).isNotEqualTo(appSpan.spanId);
      assertThat(s.flags).isEqualTo((appSpan.flags & 0xff) | 0x100);
    });
    assertThat(appSpan.flags & 0x01).isEqualTo(1);
    // the unsampled INCRs are still measured, exactly: 2 Jedis + 1 Lettuce
    OtlpReceiver.await(Duration.ofSeconds(10), "INCR durations", () -> incrCount() == 3);
    assertThat(incrCount()).isEqualTo(3);
    // exemplars are off by default
    assertThat(exemplars(null)).isEmpty();
  }

  @Test
  void withTraceBasedExemplarsDurationsLinkToTheirSpansInTheAppsTrace() {
    SmokeSupport.withAgent(
            SmokeSupport.plainApp("own-otel-app", "dev.redisresilience.apps.ownotel.OwnOtelApp"),
            receiver,
            "http/protobuf")
        .env("OTEL_METRICS_EXEMPLAR_FILTER", "trace_based")
        .args(String.valueOf(redis.port()), receiver.httpEndpoint())
        .run(Duration.ofSeconds(60))
        .assertSuccess();
    OtlpReceiver.await(Duration.ofSeconds(10), "the agent's 4 spans", () -> agentSpans().size() >= 4);
    ReceivedSpan appSpan =
        receiver.spans(s -> "own-otel-app-itself".equals(s.resource.get("service.name"))).get(0);
    Set<String> agentSpanLinks =
        agentSpans().stream().map(s -> s.traceId + "/" + s.spanId).collect(Collectors.toSet());
    assertThat(agentSpanLinks).hasSize(4);
    OtlpReceiver.await(Duration.ofSeconds(10), "exemplars of GET and SET",
        () -> exemplars("GET").size() >= 2 && exemplars("SET").size() >= 2);
    // one per operation (Jedis and Lettuce), each naming its own span in the app's trace
    assertThat(exemplars("GET")).hasSize(2);
    assertThat(exemplars("SET")).hasSize(2);
    assertThat(exemplars(null)).allSatisfy(e -> assertThat(e).startsWith(appSpan.traceId + "/"));
    Set<String> linked = new java.util.HashSet<>(exemplars("GET"));
    linked.addAll(exemplars("SET"));
    assertThat(linked).isEqualTo(agentSpanLinks);
    // the unsampled INCRs have no span, so no exemplar either
    assertThat(exemplars("INCR")).isEmpty();
  }

  /** Distinct exemplars of the agent's duration points over every export (null: all operations). */
  private static Set<String> exemplarSet(String operation) {
    return receiver.metricExports().stream()
        .filter(m -> m.name.equals("db.client.operation.duration") && m.scope.startsWith("dev.redisresilience.agent."))
        .flatMap(m -> m.points.stream())
        .filter(p -> operation == null || operation.equals(p.attributes.get("db.operation.name")))
        .flatMap(p -> p.exemplars.stream())
        .collect(Collectors.toCollection(java.util.TreeSet::new));
  }

  private static List<String> exemplars(String operation) {
    return new java.util.ArrayList<>(exemplarSet(operation));
  }

  private static List<ReceivedSpan> agentSpans() {
    return receiver.spans(s -> "own-otel-app".equals(s.resource.get("service.name")));
  }

  private static double incrCount() {
    return receiver.total("db.client.operation.duration", a -> "INCR".equals(a.get("db.operation.name")));
  }
}
