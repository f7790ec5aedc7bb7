package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.AgentLog;
import dev.redisresilience.agent.telemetry.AgentFaults;
import dev.redisresilience.agent.testing.ChildFirstClassLoader;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A Jedis older than the supported range (3.10.0, the pom's {@code unsupported.client.jar}) in its
 * own class loader: the agent leaves it untouched and says so in one log line; the application
 * works as without the agent.
 */
class UnsupportedJedisVersionTest {
  static RedisServer server;

  @BeforeAll
  static void startRedis() {
    server = RedisServer.start();
  }

  @AfterAll
  static void stopRedis() {
    server.close();
  }

  @Test
  void jedis3IsLeftAloneWithOneLogLine() throws Exception {
    URL[] urls = {Path.of(System.getProperty("unsupported.client.jar")).toUri().toURL()};
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    TestTelemetry.reset();
    long faultsBefore = AgentFaults.total();
    // the metrics are cumulative per JVM, and an earlier test's server may have had this port
    long durationsBefore = TestTelemetry.durationCount(TestTelemetry.attr("server.port", (long) server.port()));
    AgentLog.setOutput(new PrintStream(log, true, StandardCharsets.UTF_8));
    Object[] replies;
    try (ChildFirstClassLoader loader =
        new ChildFirstClassLoader(urls, getClass().getClassLoader(), List.of("redis.clients."))) {
      Class<?> jedisClass = loader.loadClass("redis.clients.jedis.Jedis");
      assertThat(jedisClass.getClassLoader()).isSameAs(loader);
      replies = twoCommands(jedisClass, server.port());
      // a second connection: more client classes load, still one line for this loader
      twoCommands(jedisClass, server.port());
    } finally {
      AgentLog.setOutput(System.err);
    }
    assertThat(replies).containsExactly("OK", "v3");
    List<String> lines =
        Arrays.stream(log.toString(StandardCharsets.UTF_8).split("\\R"))
            .filter(l -> l.contains("not supported"))
            .collect(Collectors.toList());
    assertThat(lines)
        .containsExactly(
            "[redis-resilience-agent] warn: Jedis 3.10.0 is not supported (supported: 4.0 or"
                + " newer): left uninstrumented in class loader "
                + ChildFirstClassLoader.class.getName());
    assertThat(TestTelemetry.spans()).isEmpty();
    assertThat(TestTelemetry.durationCount(TestTelemetry.attr("server.port", (long) server.port())) - durationsBefore)
        .isZero();
    assertThat(AgentFaults.total() - faultsBefore).as("agent faults").isZero();
  }

  /** SET and GET through Jedis 3's API, by reflection: the test compiles against the newest. */
  private static Object[] twoCommands(Class<?> jedisClass, int port) throws Exception {
    Object jedis = jedisClass.getConstructor(String.class, int.class).newInstance("127.0.0.1", port);
    try {
      Object set =
          jedisClass.getMethod("set", String.class, String.class).invoke(jedis, "old-jedis", "v3");
      Object get = jedisClass.getMethod("get", String.class).invoke(jedis, "old-jedis");
      return new Object[] {set, get};
    } finally {
      jedisClass.getMethod("close").invoke(jedis);
    }
  }
}
