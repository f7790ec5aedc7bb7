package dev.redisresilience.agent.dist;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged agent: every class under the agent's own package (third-party code relocated),
 * service files naming relocated types only, the manifest a -javaagent jar needs with the build's
 * version, and a forked JVM that starts with it.
 */
class AgentJarIT {
  static final String OWN = "dev/redisresilience/agent/";
  /** Third-party packages the jar bundles: each must appear only under the shaded prefix. */
  static final List<String> BUNDLED =
      List.of(
          "io/opentelemetry/", "net/bytebuddy/", "okhttp3/", "okio/", "kotlin/", "org/jetbrains/",
          "org/intellij/");

  static Path jar() {
    return Paths.get(required("agent.jar"));
  }

  /** Set by the build (agent/dist/pom.xml), never written down here. */
  static String required(String property) {
    String v = System.getProperty(property);
    assertThat(v).as("system property " + property + " (run through Maven)").isNotBlank();
    return v;
  }

  static List<String> entries() throws Exception {
    List<String> names = new ArrayList<>();
    try (JarFile jar = new JarFile(jar().toFile())) {
      for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
        names.add(e.nextElement().getName());
      }
    }
    return names;
  }

  @Test
  void holdsOnlyOwnAndRelocatedClasses() throws Exception {
    List<String> foreign = new ArrayList<>();
    List<String> unrelocated = new ArrayList<>();
    for (String name : entries()) {
      if (name.endsWith(".class") && !name.startsWith(OWN)) {
        foreign.add(name);
      }
      if (name.startsWith("META-INF/versions/")) {
        foreign.add(name); // would bypass relocation on newer JDKs
      }
      for (String p : BUNDLED) {
        if (name.startsWith(p)) {
          unrelocated.add(name); // a resource or class path the relocation missed
        }
      }
    }
    assertThat(foreign).isEmpty();
    assertThat(unrelocated).isEmpty();
  }

  @Test
  void everyBundledLibraryIsPresentUnderTheShadedPrefix() throws Exception {
    List<String> names = entries();
    for (String p : List.of("io/opentelemetry/", "io/prometheus/", "net/bytebuddy/", "okhttp3/", "okio/", "kotlin/")) {
      String shaded = OWN + "shaded/" + (p.equals("net/bytebuddy/") ? "bytebuddy/" : p);
      assertThat(names).as(shaded).anySatisfy(n -> assertThat(n).startsWith(shaded).endsWith(".class"));
    }
    assertThat(names)
        .contains(
            OWN + "shaded/bytebuddy/agent/builder/AgentBuilder.class",
            OWN + "shaded/io/opentelemetry/sdk/OpenTelemetrySdk.class",
            OWN + "shaded/io/opentelemetry/exporter/otlp/http/trace/OtlpHttpSpanExporter.class",
            OWN + "shaded/okhttp3/OkHttpClient.class",
            // the scrape endpoint: OpenTelemetry's exporter and the Prometheus library under it
            OWN + "shaded/io/opentelemetry/exporter/prometheus/PrometheusHttpServer.class",
            OWN + "shaded/io/prometheus/metrics/exporter/httpserver/HTTPServer.class",
            OWN + "Premain.class",
            OWN + "core/commands.tsv",
            OWN + "instrumentation/jedis/JedisInstrumentationModule.class",
            OWN + "instrumentation/lettuce/LettuceInstrumentationModule.class");
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
        assertThat(jar.getEntry(iface.replace('.', '/') + ".class")).as(iface).isNotNull();
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

  /** The service file's provider lines, without comments and blanks. */
  static List<String> providers(JarFile jar, String iface) throws Exception {
    List<String> lines = new ArrayList<>();
    JarEntry entry = jar.getJarEntry("META-INF/services/" + iface);
    if (entry == null) {
      return lines;
    }
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(jar.getInputStream(entry), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        line = line.trim();
        if (!line.isEmpty() && !line.startsWith("#")) {
          lines.add(line);
        }
      }
    }
    return lines;
  }

  @Test
  void bothOtlpProtocolsHaveExactlyOneSender() throws Exception {
    String spi = "dev.redisresilience.agent.shaded.io.opentelemetry.sdk.common.export.";
    try (JarFile jar = new JarFile(jar().toFile())) {
      // exactly one provider each, so the exporter never has to pick (and warn)
      // http/protobuf through the agent's own HTTP/1.1 sender; OkHttp for gRPC only (java.net.http
      // has no cleartext HTTP/2 with prior knowledge and no response trailers)
      assertThat(providers(jar, spi + "HttpSenderProvider"))
          .containsExactly("dev.redisresilience.agent.telemetry.http.OtlpHttpSenderProvider");
      assertThat(providers(jar, spi + "GrpcSenderProvider"))
          .containsExactly(
              "dev.redisresilience.agent.shaded.io.opentelemetry.exporter.sender.okhttp.internal.OkHttpGrpcSenderProvider");
    }
  }

  /**
   * Issue 12's target, 8 MiB, with both OTLP protocols (their senders are checked above, and sent
   * over by the smoke tests): 10.3 MB before minimizing OkHttp/Okio/Kotlin, 9.02 MB after, 7.82 MB
   * once the build drops the relocated libraries' local variable tables, Kotlin metadata and SMAP
   * and deflates at level 9 (agent/dist/src/build/JarSlimmer.java).
   */
  @Test
  void jarStaysUnderItsSizeCeiling() throws Exception {
    assertThat(Files.size(jar())).isLessThanOrEqualTo(8L * 1024 * 1024);
  }

  /**
   * An application that exports over http/protobuf (the default) never loads OkHttp, Okio, the
   * Kotlin stdlib or java.net.http: the agent's own sender is built at start-up.
   */
  @Test
  void httpProtobufLoadsTheAgentSenderAndNeverOkHttp(@TempDir Path tmp) throws Exception {
    Path copy = Files.copy(jar(), tmp.resolve("redis-resilience-agent.jar"));
    Path out = tmp.resolve("out.txt");
    Path classes = tmp.resolve("classes.txt");
    Process p =
        new ProcessBuilder(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info:file=" + classes,
                "-javaagent:" + copy,
                "-cp",
                Paths.get(AttachProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString(),
                AttachProbe.class.getName())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    p.getOutputStream().close();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("forked JVM did not finish within 60s:\n" + Files.readString(out));
    }
    String output = Files.readString(out);
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).as(output).contains("PROBE set-up-finished=true").doesNotContain("warn:");
    List<String> loaded = Files.readAllLines(classes);
    String shaded = "dev.redisresilience.agent.shaded.";
    assertThat(loaded)
        .anyMatch(l -> l.contains(" dev.redisresilience.agent.telemetry.http.OtlpHttpSender "))
        .noneMatch(l -> l.contains(" java.net.http.HttpClient "))
        .noneMatch(l -> l.contains(".sender.jdk."))
        .noneMatch(l -> l.contains(" " + shaded + "okhttp3."))
        .noneMatch(l -> l.contains(" " + shaded + "okio."))
        .noneMatch(l -> l.contains(" " + shaded + "kotlin."))
        .noneMatch(l -> l.contains(".sender.okhttp."));
  }

  @Test
  void manifestMakesItAJavaAgentOfThisBuildsVersion() throws Exception {
    try (JarFile jar = new JarFile(jar().toFile())) {
      Attributes a = jar.getManifest().getMainAttributes();
      assertThat(a.getValue("Premain-Class")).isEqualTo("dev.redisresilience.agent.Premain");
      assertThat(a.getValue("Agent-Class")).isEqualTo("dev.redisresilience.agent.Premain");
      assertThat(a.getValue("Can-Redefine-Classes")).isEqualTo("true");
      assertThat(a.getValue("Can-Retransform-Classes")).isEqualTo("true");
      assertThat(a.getValue("Implementation-Title")).isEqualTo("redis-resilience-agent");
      assertThat(a.getValue("Implementation-Version")).isEqualTo(required("project.version"));
      // the version the agent reports at run time (logs, instrumentation scope)
      Properties p = new Properties();
      try (InputStream in = jar.getInputStream(jar.getEntry(OWN + "agent.properties"))) {
        p.load(in);
      }
      assertThat(p.getProperty("version")).isEqualTo(required("project.version"));
    }
  }

  /** A private copy: a forked JVM must never map the jar a concurrent build may be rewriting. */
  @Test
  void attachesAndStartsInAForkedJvm(@TempDir Path tmp) throws Exception {
    Path copy = Files.copy(jar(), tmp.resolve("redis-resilience-agent.jar"));
    Path out = tmp.resolve("out.txt");
    Process p =
        new ProcessBuilder(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-javaagent:" + copy,
                "-cp",
                Paths.get(AttachProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString(),
                AttachProbe.class.getName())
            .redirectErrorStream(true)
            .redirectOutput(out.toFile())
            .start();
    p.getOutputStream().close();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError("forked JVM did not finish within 60s:\n" + Files.readString(out));
    }
    String output = Files.readString(out);
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output.lines())
        .as(output)
        .contains(
            "[redis-resilience-agent] " + required("project.version")
                + " started; instrumenting jedis, lettuce; all settings at their defaults",
            "PROBE set-up-finished=true",
            "PROBE agent-on-boot-path=true")
        .noneMatch(l -> l.contains("failed to set up") || l.contains("warn:"));
    String threads =
        output.lines().filter(l -> l.startsWith("PROBE threads=")).findFirst().orElseThrow();
    // spans go through the agent's own pipeline; the SDK's tracer provider has no batch processor
    // (its worker thread would sit idle beside the pipeline's)
    assertThat(threads)
        .contains("redis-resilience-agent-span-export")
        .doesNotContain("BatchSpanProcessor");
  }
}
