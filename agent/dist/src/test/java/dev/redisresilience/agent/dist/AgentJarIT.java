package dev.redisresilience.agent.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The packaged agent: every class under the agent's own package (third-party code relocated),
 * service files naming relocated types only, and the manifest a -javaagent jar needs.
 */
class AgentJarIT {
  static final String OWN = "dev/redisresilience/agent/";

  static Path jar() {
    return Paths.get(System.getProperty("agent.jar", "target/redis-resilience-agent.jar"));
  }

  @Test
  void holdsOnlyRelocatedClasses() throws Exception {
    List<String> foreign = new ArrayList<>();
    int classes = 0;
    try (JarFile jar = new JarFile(jar().toFile())) {
      for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
        String name = e.nextElement().getName();
        if (name.endsWith(".class")) {
          classes++;
          if (!name.startsWith(OWN)) {
            foreign.add(name);
          }
        } else if (name.startsWith("META-INF/versions/")) {
          foreign.add(name); // would bypass relocation on newer JDKs
        }
      }
    }
    assertThat(foreign).isEmpty();
    assertThat(classes).isGreaterThan(1000);
  }

  @Test
  void containsTheRelocatedDependencies() throws Exception {
    try (JarFile jar = new JarFile(jar().toFile())) {
      assertThat(jar.getEntry(OWN + "shaded/bytebuddy/agent/builder/AgentBuilder.class")).isNotNull();
      assertThat(jar.getEntry(OWN + "shaded/io/opentelemetry/sdk/OpenTelemetrySdk.class")).isNotNull();
      assertThat(
              jar.getEntry(
                  OWN + "shaded/io/opentelemetry/exporter/otlp/http/trace/OtlpHttpSpanExporter.class"))
          .isNotNull();
      assertThat(jar.getEntry(OWN + "shaded/okhttp3/OkHttpClient.class")).isNotNull();
      // the scrape endpoint: OpenTelemetry's exporter and the Prometheus library under it
      assertThat(
              jar.getEntry(
                  OWN + "shaded/io/opentelemetry/exporter/prometheus/PrometheusHttpServer.class"))
          .isNotNull();
      assertThat(
              jar.getEntry(
                  OWN + "shaded/io/prometheus/metrics/exporter/httpserver/HTTPServer.class"))
          .isNotNull();
      assertThat(jar.getEntry(OWN + "Premain.class")).isNotNull();
      assertThat(jar.getEntry(OWN + "core/commands.tsv")).isNotNull();
    }
  }

  @Test
  void serviceFilesNameRelocatedTypesOnly() throws Exception {
    List<String> services = new ArrayList<>();
    try (JarFile jar = new JarFile(jar().toFile())) {
      for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
        JarEntry entry = e.nextElement();
        if (!entry.getName().startsWith("META-INF/services/") || entry.isDirectory()) {
          continue;
        }
        String iface = entry.getName().substring("META-INF/services/".length());
        assertThat(iface).startsWith("dev.redisresilience.agent.");
        try (BufferedReader r =
            new BufferedReader(new InputStreamReader(jar.getInputStream(entry), StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            line = line.trim();
            if (!line.isEmpty() && !line.startsWith("#")) {
              assertThat(line).as(iface).startsWith("dev.redisresilience.agent.");
              assertThat(jar.getEntry(line.replace('.', '/') + ".class")).as(line).isNotNull();
              services.add(iface);
            }
          }
        }
      }
    }
    assertThat(services)
        .contains(
            "dev.redisresilience.agent.install.InstrumentationModule",
            "dev.redisresilience.agent.shaded.io.opentelemetry.sdk.autoconfigure.spi.traces.ConfigurableSpanExporterProvider");
  }

  @Test
  void manifestMakesItAJavaAgent() throws Exception {
    try (JarFile jar = new JarFile(jar().toFile())) {
      Attributes a = jar.getManifest().getMainAttributes();
      assertThat(a.getValue("Premain-Class")).isEqualTo("dev.redisresilience.agent.Premain");
      assertThat(a.getValue("Agent-Class")).isEqualTo("dev.redisresilience.agent.Premain");
      assertThat(a.getValue("Implementation-Version")).isNotBlank();
    }
  }

  @Test
  void reportsItsSize() throws Exception {
    long bytes = Files.size(jar());
    System.out.printf("agent jar: %s, %.2f MB%n", jar(), bytes / 1e6);
    assertThat(bytes).isGreaterThan(1_000_000);
  }
}
