package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.OtlpReceiver;
import dev.redisresilience.harness.ReceivedSpan;
import dev.redisresilience.harness.RedisServer;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Beside the OpenTelemetry Java agent (2.33.1, the Maven artifact), in both attach orders: a plain
 * app with no OpenTelemetry code serves one HTTP request (JDK HttpServer, the OTel agent's SERVER
 * span) whose handler calls Redis through Jedis and Lettuce async. Both agents work and export to
 * one collector with the same resource; each Redis operation is reported once: by the OTel agent
 * by default, by this agent, as children of the OTel agent's SERVER span, when the OTel agent's
 * Redis instrumentation is turned off with its own setting.
 */
class OtelJavaAgentIT {
  static final String JEDIS = "dev.redisresilience.agent.jedis";
  static final String LETTUCE = "dev.redisresilience.agent.lettuce";
  static final String OTEL_JEDIS = "io.opentelemetry.jedis-4.0";
  static final String OTEL_LETTUCE = "io.opentelemetry.lettuce-5.1";
  static final String OTEL_SERVER = "io.opentelemetry.java-http-server";

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

  static Path otelAgent() {
    Path p = Paths.get(System.getProperty("otel.javaagent.jar", "target/otel/opentelemetry-javaagent.jar"));
    assertThat(p).exists();
    return p;
  }

  static ForkedJvm.Result run(boolean otelFirst, String... sysProps) {
    ForkedJvm.Builder b = SmokeSupport.plainApp("http-app", "dev.redisresilience.apps.http.HttpApp");
    if (otelFirst) {
      b.jvmArg("-javaagent:" + otelAgent()).agent(ForkedJvm.agentJar());
    } else {
      b.agent(ForkedJvm.agentJar()).jvmArg("-javaagent:" + otelAgent());
    }
    for (int i = 0; i < sysProps.length; i += 2) {
      b.sysProp(sysProps[i], sysProps[i + 1]);
    }
    ForkedJvm.Result r =
        b.otlp(receiver, "http/protobuf")
            .env("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=smoke")
            .args(String.valueOf(redis.port()))
            .run(Duration.ofSeconds(120))
            .assertSuccess();
    // the app works under both agents
    assertThat(r.linesStartingWith("RESULT ")).containsExactly("status=200", "body=j,OK,l", "done");
    assertThat(String.join("\n", r.agentLines())).contains("started; instrumenting jedis, lettuce");
    return r;
  }

  /** The OTel agent's one SERVER span of the request, once it has arrived. */
  static ReceivedSpan serverSpan() {
    OtlpReceiver.await(Duration.ofSeconds(20), "the OTel agent's SERVER span",
        () -> !receiver.spans(s -> OTEL_SERVER.equals(s.scope)).isEmpty());
    List<ReceivedSpan> server = receiver.spans(s -> OTEL_SERVER.equals(s.scope));
    assertThat(server).singleElement().satisfies(s -> {
      assertThat(s.kind).isEqualTo("SERVER");
      assertThat(s.name).isEqualTo("GET /checkout");
    });
    return server.get(0);
  }

  /** Span names of one scope in the request's trace, with their counts. */
  static Map<String, Long> inTrace(ReceivedSpan server, String scope) {
    return SmokeSupport.nameCounts(
        receiver.spans(s -> scope.equals(s.scope) && s.traceId.equals(server.traceId)));
  }

  static double durations(String scope, String operation) {
    return receiver.metricExports().stream()
        .filter(m -> m.scope.equals(scope) && m.name.equals("db.client.operation.duration"))
        .flatMap(m -> m.points.stream())
        .filter(p -> operation.equals(p.attributes.get("db.operation.name")))
        .mapToLong(p -> p.count)
        .max()
        .orElse(0);
  }

  /** Every span of both agents: one service, one set of resource attributes from OTEL_*. */
  static void assertOneResource() {
    List<ReceivedSpan> all = receiver.spans();
    assertThat(all.stream().map(s -> s.scope).anyMatch(s -> s.startsWith("io.opentelemetry."))).isTrue();
    assertThat(all.stream().map(s -> s.resource.get("service.name")).collect(Collectors.toSet()))
        .containsExactly("http-app");
    assertThat(all.stream().map(s -> s.resource.get("deployment.environment.name")).collect(Collectors.toSet()))
        .containsExactly("smoke");
  }

  @ParameterizedTest(name = "OTel agent attached first: {0}")
  @ValueSource(booleans = {true, false})
  void byDefaultTheOtelAgentReportsRedisSpansAndThisAgentItsMetrics(boolean otelFirst) {
    ForkedJvm.Result r = run(otelFirst);
    ReceivedSpan server = serverSpan();
    OtlpReceiver.await(Duration.ofSeconds(20), "the OTel agent's Redis spans",
        () -> inTrace(server, OTEL_JEDIS).size() + inTrace(server, OTEL_LETTUCE).size() >= 4);
    // the OTel agent's Redis spans, children of its SERVER span
    assertThat(inTrace(server, OTEL_JEDIS)).contains(entry("GET", 1L), entry("SET", 1L));
    assertThat(inTrace(server, OTEL_LETTUCE)).containsExactly(entry("GET", 1L), entry("SET", 1L));
    assertThat(receiver.spans(s -> OTEL_LETTUCE.equals(s.scope) && s.traceId.equals(server.traceId)))
        .allSatisfy(s -> assertThat(s.parentSpanId).isEqualTo(server.spanId));
    // this agent's metrics, exact (the OTel agent reports no db.client.operation.duration by default)
    OtlpReceiver.await(Duration.ofSeconds(20), "this agent's durations",
        () -> durations(JEDIS, "GET") == 1 && durations(LETTUCE, "GET") == 1);
    assertThat(durations(JEDIS, "SET")).isEqualTo(1);
    assertThat(durations(LETTUCE, "SET")).isEqualTo(1);
    assertThat(receiver.metricExports().stream()
            .filter(m -> m.name.equals("db.client.operation.duration"))
            .map(m -> m.scope)
            .collect(Collectors.toSet()))
        .containsExactlyInAnyOrder(JEDIS, LETTUCE);
    // ... and no Redis span of its own: nothing reported twice
    assertThat(receiver.spans(s -> s.scope.startsWith("dev.redisresilience.agent."))).isEmpty();
    assertThat(r.agentLines())
        .contains(
            "[redis-resilience-agent] the OpenTelemetry Java agent reports jedis operations as spans:"
                + " this agent records no jedis spans (metrics, events and resilience stay); for this"
                + " agent's spans instead, set otel.instrumentation.jedis.enabled=false",
            "[redis-resilience-agent] the OpenTelemetry Java agent reports lettuce operations as spans:"
                + " this agent records no lettuce spans (metrics, events and resilience stay); for this"
                + " agent's spans instead, set otel.instrumentation.lettuce.enabled=false");
    assertOneResource();
  }

  @ParameterizedTest(name = "OTel agent attached first: {0}")
  @ValueSource(booleans = {true, false})
  void withTheOtelAgentsRedisInstrumentationOffThisAgentsSpansAreChildrenOfItsServerSpan(boolean otelFirst) {
    ForkedJvm.Result r =
        run(otelFirst, "otel.instrumentation.jedis.enabled", "false", "otel.instrumentation.lettuce.enabled", "false");
    ReceivedSpan server = serverSpan();
    String hp = SmokeSupport.hp(redis);
    OtlpReceiver.await(Duration.ofSeconds(20), "this agent's 4 spans",
        () -> inTrace(server, JEDIS).size() + inTrace(server, LETTUCE).size() >= 2
            && receiver.spans(s -> s.scope.startsWith("dev.redisresilience.agent.")).size() >= 4);
    List<ReceivedSpan> ours = receiver.spans(s -> s.scope.startsWith("dev.redisresilience.agent."));
    assertThat(SmokeSupport.nameCounts(ours)).containsExactly(entry("GET" + hp, 2L), entry("SET" + hp, 2L));
    assertThat(ours.stream().map(s -> s.scope).collect(Collectors.toSet())).containsExactlyInAnyOrder(JEDIS, LETTUCE);
    // children of the OTel agent's SERVER span: its trace, its id, its W3C flags, a local parent
    assertThat(ours).allSatisfy(s -> {
      assertThat(s.traceId).isEqualTo(server.traceId);
      assertThat(s.parentSpanId).isEqualTo(server.spanId);
      assertThat(s.flags).isEqualTo((server.flags & 0xff) | 0x100);
    });
    assertThat(server.flags & 0x01).isEqualTo(1);
    // the OTel agent reports no Redis span at all
    assertThat(receiver.spans(
            s -> s.scope.startsWith("io.opentelemetry.jedis") || s.scope.startsWith("io.opentelemetry.lettuce")))
        .isEmpty();
    assertThat(r.agentLines()).noneMatch(l -> l.contains("reports jedis operations") || l.contains("reports lettuce operations"));
    assertOneResource();
  }
}
