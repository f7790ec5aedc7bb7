package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.OtlpReceiver;
import dev.redisresilience.harness.ReceivedSpan;
import dev.redisresilience.harness.RedisServer;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Spring Boot 3 executable fat jars (LaunchedClassLoader, nested jars) with
 * spring-boot-starter-data-redis on Lettuce and on Jedis, run with java -jar and the agent.
 */
class SpringBootAppsIT {
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
  void clean() {
    receiver.clear();
    redis.flushAll();
  }

  @ParameterizedTest
  @CsvSource({
    "spring-lettuce-app, lettuce, LettuceConnectionFactory",
    "spring-jedis-app, jedis, JedisConnectionFactory"
  })
  void exportsExactlyTheSixOperations(String app, String client, String factory) {
    ForkedJvm.Result r =
        SmokeSupport.withAgent(SmokeSupport.bootJar(app), receiver, "http/protobuf")
            .args("--spring.data.redis.port=" + redis.port(), "--spring.data.redis.host=127.0.0.1")
            .run(Duration.ofSeconds(90))
            .assertSuccess();
    assertThat(r.linesStartingWith("RESULT "))
        .containsExactly(
            "get=v", "incr=1", "del=true", "hget=h", "client=" + factory, "done");
    assertThat(r.agentLines())
        .singleElement()
        .asString()
        .contains("started; instrumenting jedis, lettuce");

    String hp = SmokeSupport.hp(redis);
    List<ReceivedSpan> spans = receiver.spans();
    assertThat(SmokeSupport.nameCounts(spans))
        .containsExactly(
            entry("DEL" + hp, 1L),
            entry("GET" + hp, 1L),
            entry("HGET" + hp, 1L),
            entry("HSET" + hp, 1L),
            entry("INCR" + hp, 1L),
            entry("SET" + hp, 1L));
    for (ReceivedSpan s : spans) {
      assertThat(s.scope).isEqualTo("dev.redisresilience.agent." + client);
      assertThat(s.statusCode).isEqualTo("UNSET");
      assertThat(s.attributes)
          .containsEntry("db.system.name", "redis")
          .containsEntry("db.namespace", "0")
          .containsEntry("server.address", "127.0.0.1")
          .containsEntry("server.port", (long) redis.port());
    }
    assertThat(spans.stream().filter(s -> s.name.startsWith("SET")).findFirst().get().attributes)
        .containsEntry("db.query.text", "SET spring:key ?");
    assertThat(receiver.total("db.client.operation.duration", a -> true)).isEqualTo(6);
  }
}
