package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.AgentLog;
import dev.redisresilience.agent.telemetry.AgentFaults;
import dev.redisresilience.agent.testing.ChildFirstClassLoader;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisServer;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A Lettuce older than the supported range (6.0.9, the pom's {@code unsupported.client.jar}) in
 * its own class loader: the agent leaves it untouched and says so in one log line; the
 * application works as without the agent.
 */
class UnsupportedLettuceVersionTest {
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
  void lettuce60IsLeftAloneWithOneLogLine() throws Exception {
    // Netty too, as in LettuceChildLoaderTest: a second Lettuce cannot register its Netty
    // constants on the test class path's Netty again
    List<URL> urls = new ArrayList<>();
    urls.add(Path.of(System.getProperty("unsupported.client.jar")).toUri().toURL());
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      if (new File(entry).getName().startsWith("netty-")) {
        urls.add(new File(entry).toURI().toURL());
      }
    }
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    TestTelemetry.reset();
    long faultsBefore = AgentFaults.total();
    // the metrics are cumulative per JVM, and an earlier test's server may have had this port
    long durationsBefore = TestTelemetry.durationCount(TestTelemetry.attr("server.port", (long) server.port()));
    AgentLog.setOutput(new PrintStream(log, true, StandardCharsets.UTF_8));
    Thread t = Thread.currentThread();
    ClassLoader previous = t.getContextClassLoader();
    List<Object> replies;
    try (ChildFirstClassLoader loader =
        new ChildFirstClassLoader(
            urls.toArray(new URL[0]), getClass().getClassLoader(), List.of("io.lettuce.", "io.netty."))) {
      t.setContextClassLoader(loader);
      replies = setAndGet(loader, server.port());
    } finally {
      t.setContextClassLoader(previous);
      AgentLog.setOutput(System.err);
    }
    assertThat(replies).containsExactly("OK", "v6.0");
    List<String> lines =
        Arrays.stream(log.toString(StandardCharsets.UTF_8).split("\\R"))
            .filter(l -> l.contains("not supported"))
            .collect(Collectors.toList());
    assertThat(lines)
        .containsExactly(
            "[redis-resilience-agent] warn: Lettuce 6.0.9.RELEASE is not supported (supported: 6.1"
                + " or newer): left uninstrumented in class loader "
                + ChildFirstClassLoader.class.getName());
    assertThat(TestTelemetry.spans()).isEmpty();
    assertThat(TestTelemetry.durationCount(TestTelemetry.attr("server.port", (long) server.port())) - durationsBefore)
        .isZero();
    assertThat(AgentFaults.total() - faultsBefore).as("agent faults").isZero();
  }

  /** SET and GET through Lettuce 6.0's API, by reflection: the test compiles against the newest. */
  private static List<Object> setAndGet(ClassLoader loader, int port) throws Exception {
    Class<?> clientClass = loader.loadClass("io.lettuce.core.RedisClient");
    assertThat(clientClass.getClassLoader()).isSameAs(loader);
    Class<?> connectionType = loader.loadClass("io.lettuce.core.api.StatefulRedisConnection");
    Class<?> strings = loader.loadClass("io.lettuce.core.api.sync.RedisStringCommands");
    Object client =
        clientClass.getMethod("create", String.class).invoke(null, "redis://127.0.0.1:" + port);
    try {
      Object connection = clientClass.getMethod("connect").invoke(client);
      try {
        Object sync = connectionType.getMethod("sync").invoke(connection);
        List<Object> replies = new ArrayList<>();
        replies.add(strings.getMethod("set", Object.class, Object.class).invoke(sync, "old", "v6.0"));
        replies.add(strings.getMethod("get", Object.class).invoke(sync, "old"));
        return replies;
      } finally {
        connectionType.getMethod("close").invoke(connection);
      }
    } finally {
      clientClass.getMethod("shutdown").invoke(client);
    }
  }
}
