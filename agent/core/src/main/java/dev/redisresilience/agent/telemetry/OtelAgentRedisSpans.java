package dev.redisresilience.agent.telemetry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Properties;
import java.util.function.Function;

/**
 * Whether the OpenTelemetry Java agent, attached beside this one, reports a client library's Redis
 * operations as spans itself. Then this agent records no spans of its own for that library (its
 * metrics, log events and resilience stay), so an operation is not reported twice; setting
 * {@code otel.instrumentation.jedis.enabled=false} (or {@code lettuce}) turns the OTel agent's off
 * and this agent's on.
 *
 * <p>Decided from the OTel agent's own settings, as it reads them (system property, environment
 * variable, its {@code otel.javaagent.configuration-file}), with its rule: an instrumentation is
 * on unless one of its names is set to false, or, with {@code
 * otel.instrumentation.common.default-enabled=false}, on only if one of its names is set to true.
 * Works whichever agent is attached first: it is asked at the first operation, after every
 * premain ran.
 */
final class OtelAgentRedisSpans {
  // built at run time: the shade plugin rewrites string constants that start with io.opentelemetry
  private static final String AGENT_MARKER =
      String.join(".", "io", "opentelemetry", "javaagent", "bootstrap", "AgentInitializer");

  private OtelAgentRedisSpans() {}

  /** The OTel agent's instrumentation names for the versions this agent supports. */
  static String[] instrumentationNames(String library) {
    switch (library) {
      case "jedis":
        return new String[] {"jedis", "jedis-4.0"}; // Jedis 4+
      case "lettuce":
        return new String[] {"lettuce", "lettuce-5.1"}; // Lettuce 5.1+
      default:
        return new String[] {library};
    }
  }

  /** Whether an OTel Java agent in this JVM reports {@code library}'s operations as spans. */
  static boolean reportsSpans(String library) {
    if (!otelAgentAttached()) {
      return false;
    }
    Properties file = configurationFile();
    return reportsSpans(
        library,
        key -> {
          String v = System.getProperty(key);
          if (v == null) {
            v = System.getenv(key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_'));
          }
          if (v == null && file != null) {
            v = file.getProperty(key);
          }
          return v;
        });
  }

  /** The rule itself, over any source of the OTel agent's settings. */
  static boolean reportsSpans(String library, Function<String, String> setting) {
    if ("false".equalsIgnoreCase(trim(setting.apply("otel.javaagent.enabled")))) {
      return false;
    }
    boolean defaultEnabled =
        !"false".equalsIgnoreCase(trim(setting.apply("otel.instrumentation.common.default-enabled")));
    boolean enabled = defaultEnabled;
    for (String name : instrumentationNames(library)) {
      String v = trim(setting.apply("otel.instrumentation." + name + ".enabled"));
      boolean on = v == null ? defaultEnabled : "true".equalsIgnoreCase(v);
      if (defaultEnabled) {
        enabled &= on;
      } else {
        enabled |= on;
      }
    }
    return enabled;
  }

  private static boolean otelAgentAttached() {
    try {
      Class.forName(AGENT_MARKER, false, null);
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  private static Properties configurationFile() {
    String path = System.getProperty("otel.javaagent.configuration-file");
    if (path == null) {
      path = System.getenv("OTEL_JAVAAGENT_CONFIGURATION_FILE");
    }
    if (path == null || path.trim().isEmpty()) {
      return null;
    }
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(Paths.get(path.trim()))) {
      p.load(in);
      return p;
    } catch (IOException | RuntimeException e) {
      return null; // the OTel agent reports its own unreadable file
    }
  }

  private static String trim(String s) {
    return s == null ? null : s.trim();
  }
}
