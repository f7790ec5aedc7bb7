package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import dev.redisresilience.harness.FaultProxy;
import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.OtlpReceiver;
import dev.redisresilience.harness.ReceivedSpan;
import dev.redisresilience.harness.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
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

  @BeforeEach
  void clean() throws Exception {
    receiver.clear();
    redis.command("FLUSHALL");
  }

  static ForkedJvm.Result runApp(int port) throws Exception {
    Path dir = SmokeSupport.appsDir().resolve("child-loader-jedis-app");
    String jedisClassPath = Files.readString(dir.resolve("target/classpath.txt")).trim();
    return SmokeSupport.withAgent(
            ForkedJvm.builder()
                .name("child-loader-jedis-app")
                .classpath(dir.resolve("target/classes").toString())
                .mainClass("dev.redisresilience.apps.childloader.ChildLoaderJedisApp"),
            receiver,
            "http/protobuf")
        .args(String.valueOf(port), jedisClassPath)
        .run(Duration.ofSeconds(60))
        .assertSuccess();
  }

  @Test
  void instrumentsJedisLoadedByAChildClassLoader() throws Exception {
    ForkedJvm.Result r = runApp(redis.port());

    assertThat(r.linesStartingWith("RESULT "))
        .containsExactly(
            "loader=jedis-child", "on-app-path=false", "set=OK", "get=v", "incr=1", "incr=2", "done");
    assertThat(r.agentLines()).singleElement().asString().contains("started; instrumenting jedis, lettuce");

    String hp = SmokeSupport.hp(redis);
    List<ReceivedSpan> spans = receiver.spans();
    assertThat(SmokeSupport.nameCounts(spans))
        .containsExactly(entry("GET" + hp, 1L), entry("INCR" + hp, 2L), entry("SET" + hp, 1L));
    for (ReceivedSpan s : spans) {
      assertThat(s.scope).isEqualTo("dev.redisresilience.agent.jedis");
      assertThat(s.statusCode).isEqualTo("UNSET");
      assertThat(s.attributes)
          .containsEntry("db.system.name", "redis")
          .containsEntry("server.address", "127.0.0.1")
          .containsEntry("server.port", (long) redis.port());
    }
    assertThat(receiver.total("db.client.operation.duration", a -> true)).isEqualTo(4);
    assertThat(receiver.total("db.client.operation.duration", a -> "INCR".equals(a.get("db.operation.name"))))
        .isEqualTo(2);
  }

  static double retries(String operation, String outcome) {
    return receiver.total(
        "redis.client.retries",
        a -> operation.equals(a.get("db.operation.name")) && outcome.equals(a.get("redis.client.retry.outcome")));
  }

  /**
   * The resilience engine works in the child loader too, at the data level: a GET answered
   * -LOADING twice is retried to its value; an INCR whose connection dies after redis-server ran
   * it (outcome unknown) is not re-run — the app sees it fail, the server counted it once, and
   * the next INCR continues from there on a fresh connection.
   */
  @Test
  void retriesAndWriteSafetyWorkInTheChildLoader() throws Exception {
    ForkedJvm.Result r;
    try (FaultProxy proxy = FaultProxy.start(redis.port())) {
      proxy.injectError("GET", "LOADING Redis is loading the dataset in memory", 2);
      proxy.resetAfterForwarding("INCR", 1);
      r = runApp(proxy.port());
    }
    assertThat(r.linesStartingWith("RESULT "))
        .containsExactly(
            "loader=jedis-child",
            "on-app-path=false",
            "set=OK",
            "get=v",
            "incr=FAIL redis.clients.jedis.exceptions.JedisConnectionException",
            "incr=2",
            "done");
    assertThat(redis.getLong("child:counter")).as("INCRs the server ran").isEqualTo(2);
    assertThat(retries("GET", "success") + retries("GET", "failure"))
        .as("GET retried past both LOADING replies")
        .isEqualTo(2);
    assertThat(retries("GET", "success")).isEqualTo(1);
    assertThat(retries("INCR", "success") + retries("INCR", "failure"))
        .as("the INCR whose outcome was unknown was not re-run")
        .isZero();
    assertThat(retries("INCR", "not_idempotent")).as("and the refusal is counted").isEqualTo(1);
    List<ReceivedSpan> incrs =
        receiver.spans().stream().filter(s -> s.name.startsWith("INCR")).collect(Collectors.toList());
    assertThat(incrs).hasSize(2);
    assertThat(incrs.stream().filter(s -> "ERROR".equals(s.statusCode)).count()).isEqualTo(1);
  }
}
