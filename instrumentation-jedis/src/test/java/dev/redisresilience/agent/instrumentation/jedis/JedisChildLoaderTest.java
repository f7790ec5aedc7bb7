package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.instrumentation.jedis.childloader.JedisChildLoaderDriver;
import dev.redisresilience.agent.telemetry.AgentFaults;
import dev.redisresilience.agent.testing.ChildFirstClassLoader;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.time.Duration;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * Jedis loaded by its own child-first class loader, as in Tomcat or a Spring Boot fat jar: the
 * agent must inject its helpers (with every nested and synthetic class) into that loader. A helper
 * class left out is loaded from the agent's loader instead, a different runtime package, and
 * fails with IllegalAccessError inside the advice: the span is lost and an agent fault counted.
 */
class JedisChildLoaderTest {
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
  @SuppressWarnings("unchecked")
  void clientInAChildLoaderGetsSpansIncludingAnExecutorsWrappedFailure() throws Exception {
    URL[] urls = {
      ChildFirstClassLoader.locationOf(Jedis.class),
      ChildFirstClassLoader.locationOf(JedisChildLoaderDriver.class)
    };
    List<String> childFirst = List.of("redis.clients.", JedisChildLoaderDriver.class.getName());
    TestTelemetry.reset();
    long faultsBefore = AgentFaults.total();
    // metrics are cumulative for the JVM: an earlier test's server may have had this port
    long durationsBefore =
        TestTelemetry.durationCount(TestTelemetry.attr("server.port", (long) server.port()));
    List<String> result;
    try (ChildFirstClassLoader loader =
        new ChildFirstClassLoader(urls, getClass().getClassLoader(), childFirst)) {
      Class<?> driver = loader.loadClass(JedisChildLoaderDriver.class.getName());
      assertThat(driver.getClassLoader()).isSameAs(loader);
      assertThat(loader.loadClass("redis.clients.jedis.Connection").getClassLoader()).isSameAs(loader);
      BiFunction<Integer, Runnable, List<String>> app =
          (BiFunction<Integer, Runnable, List<String>>) driver.getConstructor().newInstance();
      result = app.apply(server.port(), () -> command("CLIENT", "PAUSE", "1500", "ALL"));
      // the helpers really live in the child loader (not the test's), nested classes included
      assertThat(loader.loadClass(JedisErrors.class.getName()).getClassLoader()).isSameAs(loader);
    } finally {
      command("CLIENT", "UNPAUSE");
    }
    assertThat(result).containsExactly("v1", "Retry deadline exceeded.");
    assertThat(AgentFaults.total() - faultsBefore).as("agent faults").isZero();

    List<SpanData> spans = TestTelemetry.awaitSpans(4, Duration.ofSeconds(2));
    String hp = " 127.0.0.1:" + server.port();
    assertThat(spans.stream().map(SpanData::getName).collect(Collectors.toList()))
        .containsExactly("SET" + hp, "GET" + hp, "GET" + hp, "GET" + hp);
    SpanData failed = spans.get(3);
    // "Retry deadline exceeded." alone says nothing: the last attempt's timeout is the error.type
    assertThat(failed.getAttributes().get(AttributeKey.stringKey("error.type"))).isEqualTo("timeout");
    assertThat(
            TestTelemetry.durationCount(
                    TestTelemetry.attr("server.port", (long) server.port()))
                - durationsBefore)
        .isEqualTo(4);
  }

  private static void command(String... args) {
    try {
      server.command(args);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
