package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.OtlpReceiver;
import dev.redisresilience.harness.ReceivedLog;
import dev.redisresilience.harness.ReceivedSpan;
import dev.redisresilience.harness.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The packaged agent on an unmodified plain-classpath Lettuce app, over both OTLP protocols. */
class PlainLettuceAppIT {
  static RedisServer redis;
  static OtlpReceiver receiver;

  @BeforeAll
  static void start() {
    redis = RedisServer.start();
    receiver = OtlpReceiver.start();
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

  @ParameterizedTest
  @ValueSource(strings = {"http/protobuf", "grpc"})
  void exportsExactlyTheSpansAndDurationsTheWorkloadImplies(String protocol) {
    long grpcBefore = receiver.grpcRequests();
    long httpBefore = receiver.httpRequests();
    ForkedJvm.Result r =
        SmokeSupport.withAgent(
                SmokeSupport.plainApp("plain-lettuce-app", "dev.redisresilience.apps.lettuce.PlainLettuceApp"),
                receiver,
                protocol)
            .args(String.valueOf(redis.port()))
            .run(Duration.ofSeconds(60))
            .assertSuccess();

    assertThat(r.linesStartingWith("RESULT "))
        .containsExactly(
            "sync-get=s", "sync-incr=1", "async-get=a", "reactive-get=r", "wrongtype=WRONGTYPE", "tx=2",
            "done");
    if (protocol.equals("grpc")) {
      assertThat(receiver.grpcRequests()).isGreaterThan(grpcBefore);
      assertThat(receiver.httpRequests()).isEqualTo(httpBefore);
    } else {
      assertThat(receiver.httpRequests()).isGreaterThan(httpBefore);
      assertThat(receiver.grpcRequests()).isEqualTo(grpcBefore);
    }

    String hp = SmokeSupport.hp(redis);
    List<ReceivedSpan> spans = receiver.spans();
    assertThat(SmokeSupport.nameCounts(spans))
        .containsExactly(
            entry("EXEC" + hp, 1L),
            entry("GET" + hp, 4L),
            entry("HSET" + hp, 1L),
            entry("INCR" + hp, 3L),
            entry("MULTI" + hp, 1L),
            entry("SELECT" + hp, 1L),
            entry("SET" + hp, 4L));
    for (ReceivedSpan s : spans) {
      assertThat(s.kind).isEqualTo("CLIENT");
      assertThat(s.scope).isEqualTo("dev.redisresilience.agent.lettuce");
      assertThat(s.attributes)
          .containsEntry("db.system.name", "redis")
          .containsEntry("server.port", (long) redis.port())
          .containsEntry("network.peer.address", "127.0.0.1");
    }
    assertThat(spans.stream().filter(s -> "ERROR".equals(s.statusCode)).map(s -> s.attributes.get("error.type")))
        .containsExactly("WRONGTYPE");
    assertThat(spans.stream().filter(s -> "3".equals(s.attributes.get("db.namespace"))).map(s -> s.name))
        .containsExactly("SET" + hp);
    assertThat(receiver.total("db.client.operation.duration", a -> true)).isEqualTo(15);
    // the connection events of the one connection, through the packaged agent and OTLP
    List<ReceivedLog> events =
        receiver.logs().stream()
            .filter(l -> Long.valueOf(redis.port()).equals(l.attributes.get("server.port")))
            .collect(Collectors.toList());
    assertThat(events).extracting(l -> l.eventName)
        .containsExactly("redis.client.connection.connected", "redis.client.connection.disconnected");
    for (ReceivedLog l : events) {
      assertThat(l.scope).isEqualTo("dev.redisresilience.agent.lettuce");
      assertThat(l.attributes)
          .containsOnly(
              entry("db.system.name", "redis"), entry("server.address", "127.0.0.1"), entry("server.port", (long) redis.port()));
    }
  }
}
