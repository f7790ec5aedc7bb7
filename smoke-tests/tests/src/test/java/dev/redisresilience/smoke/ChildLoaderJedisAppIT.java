package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.OtlpReceiver;
import dev.redisresilience.harness.ReceivedSpan;
import dev.redisresilience.harness.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The packaged agent on an app that loads Jedis from its own URLClassLoader (parent: the platform
 * loader; Jedis is on neither the app's nor the system class path): the agent's helpers must be
 * injected into that child loader, and its spans and metrics exported as for any other app.
 */
class ChildLoaderJedisAppIT {
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
  void instrumentsJedisLoadedByAChildClassLoader() throws Exception {
    Path dir = SmokeSupport.appsDir().resolve("child-loader-jedis-app");
    String jedisClassPath = Files.readString(dir.resolve("target/classpath.txt")).trim();
    ForkedJvm.Result r =
        SmokeSupport.withAgent(
                ForkedJvm.builder()
                    .name("child-loader-jedis-app")
                    .classpath(dir.resolve("target/classes").toString())
                    .mainClass("dev.redisresilience.apps.childloader.ChildLoaderJedisApp"),
                receiver,
                "http/protobuf")
            .args(String.valueOf(redis.port()), jedisClassPath)
            .run(Duration.ofSeconds(60))
            .assertSuccess();

    assertThat(r.linesStartingWith("RESULT "))
        .containsExactly(
            "loader=jedis-child", "on-app-path=false", "set=OK", "get=v", "incr=1", "done");
    assertThat(r.agentLines()).singleElement().asString().contains("started; instrumenting jedis, lettuce");

    String hp = SmokeSupport.hp(redis);
    List<ReceivedSpan> spans = receiver.spans();
    assertThat(SmokeSupport.nameCounts(spans))
        .containsExactly(entry("GET" + hp, 1L), entry("INCR" + hp, 1L), entry("SET" + hp, 1L));
    for (ReceivedSpan s : spans) {
      assertThat(s.scope).isEqualTo("dev.redisresilience.agent.jedis");
      assertThat(s.statusCode).isEqualTo("UNSET");
      assertThat(s.attributes)
          .containsEntry("db.system.name", "redis")
          .containsEntry("server.address", "127.0.0.1")
          .containsEntry("server.port", (long) redis.port());
    }
    assertThat(receiver.total("db.client.operation.duration", a -> true)).isEqualTo(3);
    assertThat(receiver.total("db.client.operation.duration", a -> "INCR".equals(a.get("db.operation.name"))))
        .isEqualTo(1);
  }
}
