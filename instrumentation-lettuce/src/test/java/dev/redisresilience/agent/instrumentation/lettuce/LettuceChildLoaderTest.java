package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.instrumentation.lettuce.childloader.LettuceChildLoaderDriver;
import dev.redisresilience.agent.telemetry.AgentFaults;
import dev.redisresilience.agent.testing.ChildFirstClassLoader;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisServer;
import io.lettuce.core.RedisClient;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.File;
import java.net.URL;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Lettuce loaded by its own child-first class loader, as in Tomcat or a Spring Boot fat jar: the
 * agent must inject its helpers into that loader (Netty and Reactor stay with the parent).
 */
class LettuceChildLoaderTest {
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
  void clientInAChildLoaderGetsSpansAndMetrics() throws Exception {
    // Netty too: Lettuce registers Netty constants (AttributeKey "rebindAddress") that a second
    // Lettuce on the same Netty (the test class path's) cannot register again
    List<URL> urls = new ArrayList<>();
    urls.add(ChildFirstClassLoader.locationOf(RedisClient.class));
    urls.add(ChildFirstClassLoader.locationOf(LettuceChildLoaderDriver.class));
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (new File(entry).getName().startsWith("netty-")) {
        urls.add(new File(entry).toURI().toURL());
      }
    }
    List<String> childFirst =
        List.of("io.lettuce.", "io.netty.", LettuceChildLoaderDriver.class.getName());
    TestTelemetry.reset();
    long faultsBefore = AgentFaults.total();
    // the metrics are cumulative per JVM, and an earlier test's server may have had this port
    long durationsBefore = TestTelemetry.durationCount(TestTelemetry.attr("server.port", (long) server.port()));
    List<String> result;
    try (ChildFirstClassLoader loader =
        new ChildFirstClassLoader(urls.toArray(new URL[0]), getClass().getClassLoader(), childFirst)) {
      Class<?> driver = loader.loadClass(LettuceChildLoaderDriver.class.getName());
      assertThat(driver.getClassLoader()).isSameAs(loader);
      IntFunction<List<String>> app =
          (IntFunction<List<String>>) driver.getConstructor().newInstance();
      // as a web container does: Lettuce looks some classes up through the context loader
      Thread t = Thread.currentThread();
      ClassLoader previous = t.getContextClassLoader();
      t.setContextClassLoader(loader);
      try {
        result = app.apply(server.port());
      } finally {
        t.setContextClassLoader(previous);
      }
      assertThat(loader.loadClass("io.lettuce.core.RedisClient").getClassLoader()).isSameAs(loader);
      assertThat(loader.loadClass(LettuceOperations.class.getName()).getClassLoader()).isSameAs(loader);
    }
    assertThat(result.get(0)).isEqualTo("v1");
    assertThat(result.get(1)).startsWith("WRONGTYPE");
    assertThat(AgentFaults.total() - faultsBefore).as("agent faults").isZero();

    List<SpanData> spans = TestTelemetry.awaitSpans(3, Duration.ofSeconds(5));
    String hp = " 127.0.0.1:" + server.port();
    assertThat(spans.stream().map(SpanData::getName).collect(Collectors.toList()))
        .containsExactly("SET" + hp, "GET" + hp, "LPUSH" + hp);
    assertThat(spans.get(2).getAttributes().get(AttributeKey.stringKey("error.type"))).isEqualTo("WRONGTYPE");
    assertThat(TestTelemetry.durationCount(TestTelemetry.attr("server.port", (long) server.port())) - durationsBefore)
        .isEqualTo(3);
  }
}
