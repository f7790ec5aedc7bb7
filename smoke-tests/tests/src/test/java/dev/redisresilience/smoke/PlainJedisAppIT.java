package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.MetricPoint;
import dev.redisresilience.harness.OtlpReceiver;
import dev.redisresilience.harness.ReceivedSpan;
import dev.redisresilience.harness.RedisServer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The packaged agent on an unmodified plain-classpath Jedis app, exporting http/protobuf. */
class PlainJedisAppIT {
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
  void exportsExactlyTheSpansAndDurationsTheWorkloadImplies() {
    ForkedJvm.Result r =
        SmokeSupport.withAgent(
                SmokeSupport.plainApp("plain-jedis-app", "dev.redisresilience.apps.jedis.PlainJedisApp"),
                receiver,
                "http/protobuf")
            .args(String.valueOf(redis.port()))
            .run(Duration.ofSeconds(60))
            .assertSuccess();

    assertThat(r.linesStartingWith("RESULT "))
        .containsExactly(
            "legacy-get=v1",
            "legacy-incr=1",
            "legacy-ping=PONG",
            "tx=[1, 2, 3]",
            "wrongtype=WRONGTYPE",
            "pool-get=p",
            "client-get=c",
            "client-del=1",
            "done");
    assertThat(r.agentLines()).hasSize(1);
    assertThat(r.agentLines().get(0))
        .startsWith("[redis-resilience-agent] ")
        .contains("started; instrumenting jedis, lettuce; all settings at their defaults");

    String hp = SmokeSupport.hp(redis);
    List<ReceivedSpan> spans = receiver.spans();
    assertThat(SmokeSupport.nameCounts(spans))
        .containsExactly(
            entry("DEL" + hp, 1L),
            entry("GET" + hp, 4L),
            entry("HSET" + hp, 1L),
            entry("INCR" + hp, 1L),
            entry("MULTI" + hp, 1L),
            entry("PING" + hp, 1L),
            entry("PIPELINE" + hp, 1L),
            entry("SELECT" + hp, 2L),
            entry("SET" + hp, 4L));
    for (ReceivedSpan s : spans) {
      assertThat(s.kind).isEqualTo("CLIENT");
      assertThat(s.scope).isEqualTo("dev.redisresilience.agent.jedis");
      assertThat(s.resource).containsEntry("service.name", "plain-jedis-app");
      assertThat(s.attributes)
          .containsEntry("db.system.name", "redis")
          .containsEntry("server.address", "127.0.0.1")
          .containsEntry("server.port", (long) redis.port())
          .containsEntry("network.peer.address", "127.0.0.1");
    }
    ReceivedSpan pipeline = spans.stream().filter(s -> s.name.startsWith("PIPELINE")).findFirst().get();
    assertThat(pipeline.attributes).containsEntry("db.operation.batch.size", 10L);
    ReceivedSpan multi = spans.stream().filter(s -> s.name.startsWith("MULTI")).findFirst().get();
    assertThat(multi.attributes).containsEntry("db.operation.batch.size", 3L);
    ReceivedSpan failed =
        spans.stream().filter(s -> "ERROR".equals(s.statusCode)).collect(java.util.stream.Collectors.toList()).get(0);
    assertThat(failed.attributes)
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "db.system.name", "redis",
                "db.operation.name", "GET",
                "db.namespace", "0",
                "db.query.text", "GET plain:hash",
                "server.address", "127.0.0.1",
                "server.port", (long) redis.port(),
                "network.peer.address", "127.0.0.1",
                "network.peer.port", (long) redis.port(),
                "error.type", "WRONGTYPE",
                "db.response.status_code", "WRONGTYPE"));
    assertThat(spans.stream().filter(s -> "2".equals(s.attributes.get("db.namespace"))).count())
        .isEqualTo(2); // SET plain:db2 and the SELECT 0 issued on db 2
    assertThat(spans.stream().filter(s -> "ERROR".equals(s.statusCode)).count()).isEqualTo(1);

    // one duration measurement per operation, semconv buckets
    List<MetricPoint> points = receiver.latestPoints("db.client.operation.duration");
    assertThat(points.stream().mapToLong(p -> p.count).sum()).isEqualTo(spans.size()).isEqualTo(16);
    assertThat(points.get(0).bounds).containsExactly(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0);
    assertThat(
            receiver.total(
                "db.client.operation.duration",
                a -> "WRONGTYPE".equals(a.get("error.type"))
                    && "WRONGTYPE".equals(a.get("db.response.status_code"))
                    && "GET".equals(a.get("db.operation.name"))))
        .isEqualTo(1);
    assertThat(receiver.total("db.client.operation.duration", a -> "SET".equals(a.get("db.operation.name"))))
        .isEqualTo(4);
  }
}
