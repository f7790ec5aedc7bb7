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
 * Spring Boot 3.5 and 4.0 executable fat jars (LaunchedClassLoader, nested jars) with
 * spring-boot-starter-data-redis on Lettuce and on Jedis, run with java -jar and the agent. The
 * spring4-* apps are the same sources built against Spring Boot 4.0 (and the client versions it
 * resolves: Lettuce 7.7, Jedis 8.0); every scenario runs for every app it applies to.
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
    "spring-jedis-app, jedis, JedisConnectionFactory",
    "spring4-lettuce-app, lettuce, LettuceConnectionFactory",
    "spring4-jedis-app, jedis, JedisConnectionFactory"
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

  /**
   * Each app's INCRs (StringRedisTemplate, 4 threads, one key per call) while every client
   * connection is killed every 50 ms (CLIENT KILL TYPE normal): Lettuce re-sends what was sent and
   * not answered after it reconnects, which would run an INCR twice; the agent's Jedis retries
   * must not re-run an INCR whose outcome is unknown. With the agent, every INCR the app saw
   * succeed is on the server exactly once, and none ran twice.
   */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(
      strings = {"spring-lettuce-app", "spring4-lettuce-app", "spring-jedis-app", "spring4-jedis-app"})
  void incrCounterStaysExactWhileConnectionsAreKilled(String app) throws Exception {
    int total = 3000;
    ForkedJvm jvm =
        SmokeSupport.withAgent(SmokeSupport.bootJar(app), receiver, "http/protobuf")
            .sysProp("app.incr.count", String.valueOf(total))
            .args("--spring.data.redis.port=" + redis.port(), "--spring.data.redis.host=127.0.0.1")
            .build()
            .start();
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicLong killed = new java.util.concurrent.atomic.AtomicLong();
    Thread killer = new Thread(() -> {
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
      while (!stop.get() && System.nanoTime() < deadline) {
        try {
          if (jvm.stdout().contains("INCR ")) { // the app is running its INCRs
            String reply = redis.command("CLIENT", "KILL", "TYPE", "normal");
            killed.addAndGet(Long.parseLong(reply.substring(1)));
          }
          Thread.sleep(50);
        } catch (Exception e) {
          // next round
        }
      }
    }, "client-killer");
    killer.start();
    ForkedJvm.Result r;
    try {
      r = jvm.await(Duration.ofSeconds(150)).assertSuccess();
    } finally {
      stop.set(true);
      killer.join(5000);
    }
    List<String> lines = r.linesStartingWith("INCR ");
    assertThat(lines).hasSize(total);
    int acknowledged = 0;
    int failed = 0;
    int duplicates = 0;
    int lost = 0;
    for (String line : lines) {
      String[] p = line.split(" "); // i OK reply | i FAIL exception (the "INCR " prefix is cut)
      long onServer = redis.getLong("spring:incr:" + p[0]);
      if (onServer > 1) {
        duplicates++;
      }
      if (p[1].equals("OK")) {
        acknowledged++;
        if (onServer != 1 || !p[2].equals("1")) {
          lost++;
        }
      } else {
        failed++;
      }
    }
    System.out.printf(
        "%s under CLIENT KILL every 50 ms: %d INCRs, %d acknowledged, %d failed,"
            + " %d duplicates, %d lost, %d clients killed%n",
        app, total, acknowledged, failed, duplicates, lost, killed.get());
    assertThat(killed.get()).as("connections were killed while the INCRs ran").isGreaterThanOrEqualTo(5);
    assertThat(duplicates).as("INCRs that ran twice").isZero();
    assertThat(acknowledged)
        .as("INCRs that succeeded (the rest may fail: their outcome was unknown); first lines: %s",
            lines.subList(0, Math.min(5, lines.size())))
        .isGreaterThan(total * 9 / 10);
    assertThat(lost).as("acknowledged INCRs not on the server exactly once").isZero();
  }
}
