package dev.redisresilience.smoke;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * Versions the smoke tests compare against, from the build instead of written into the tests:
 * the agent's (system properties set in smoke-tests/tests/pom.xml) and the ones an app ships
 * (the jars on the class path Maven wrote for it).
 */
final class Versions {
  private Versions() {}

  /** The project version, which the agent reports in its log and instrumentation scope. */
  static String agent() {
    return required("project.version");
  }

  /** The OpenTelemetry SDK version bundled (relocated) in the agent. */
  static String agentOpenTelemetry() {
    return required("otel.version");
  }

  /** The ByteBuddy version bundled (relocated) in the agent. */
  static String agentByteBuddy() {
    return required("bytebuddy.version");
  }

  /** The version of {@code artifactId}'s jar on a plain app's class path (exactly one). */
  static String appJar(String module, String artifactId) {
    String cp;
    try {
      cp = Files.readString(SmokeSupport.appsDir().resolve(module).resolve("target/classpath.txt")).trim();
    } catch (IOException e) {
      throw new UncheckedIOException("build the apps first (mvn package): " + module, e);
    }
    List<String> versions = new ArrayList<>();
    for (String entry : cp.split(File.pathSeparator)) {
      String name = new File(entry).getName();
      String prefix = artifactId + "-";
      if (name.startsWith(prefix) && name.endsWith(".jar")
          && Character.isDigit(name.charAt(prefix.length()))) {
        versions.add(name.substring(prefix.length(), name.length() - ".jar".length()));
      }
    }
    assertThat(versions).as(artifactId + " on the class path of " + module).hasSize(1);
    return versions.get(0);
  }

  private static String required(String property) {
    String v = System.getProperty(property);
    assertThat(v).as("system property " + property + " (run through Maven)").isNotBlank();
    return v;
  }
}
