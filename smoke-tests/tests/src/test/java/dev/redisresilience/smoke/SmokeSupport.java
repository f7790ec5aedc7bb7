package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.harness.ForkedJvm;
import dev.redisresilience.harness.OtlpReceiver;
import dev.redisresilience.harness.ReceivedSpan;
import dev.redisresilience.harness.RedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** What every smoke test needs: the apps, a Redis, a receiver, the packaged agent. */
final class SmokeSupport {
  private SmokeSupport() {}

  static Path appsDir() {
    return Paths.get(System.getProperty("apps.dir", "../apps")).toAbsolutePath().normalize();
  }

  /** A plain app: its classes plus the classpath Maven wrote at package time. */
  static ForkedJvm.Builder plainApp(String module, String mainClass) {
    Path dir = appsDir().resolve(module);
    String cp;
    try {
      cp = Files.readString(dir.resolve("target/classpath.txt")).trim();
    } catch (IOException e) {
      throw new UncheckedIOException("build the apps first (mvn package): " + dir, e);
    }
    return ForkedJvm.builder()
        .name(module)
        .classpath(dir.resolve("target/classes") + java.io.File.pathSeparator + cp)
        .mainClass(mainClass);
  }

  /** A Spring Boot executable fat jar, run with java -jar. */
  static ForkedJvm.Builder bootJar(String module) {
    Path jar = appsDir().resolve(module).resolve("target").resolve(module + ".jar");
    assertThat(jar).exists();
    return ForkedJvm.builder().name(module).jar(jar);
  }

  static ForkedJvm.Builder withAgent(ForkedJvm.Builder b, OtlpReceiver receiver, String protocol) {
    return b.agent(ForkedJvm.agentJar()).otlp(receiver, protocol);
  }

  /** Span names with their counts, sorted: an exact, order-independent picture. */
  static Map<String, Long> nameCounts(List<ReceivedSpan> spans) {
    return new TreeMap<>(
        spans.stream().collect(Collectors.groupingBy(s -> s.name, Collectors.counting())));
  }

  static String hp(RedisServer redis) {
    return " 127.0.0.1:" + redis.port();
  }
}
