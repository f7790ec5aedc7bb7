package dev.redisresilience.agent.install;

import dev.redisresilience.agent.AgentLog;
import java.io.InputStream;
import java.net.URL;
import java.net.URLConnection;
import java.util.Map;
import java.util.Properties;
import java.util.WeakHashMap;
import net.bytebuddy.matcher.ElementMatcher;

/** Marker-class gating: does this class loader see a class, without loading it. */
public final class ClassLoaderMatchers {
  private ClassLoaderMatchers() {}

  /**
   * The gate of one client's supported versions: a loader matches when it sees {@code markerClass}
   * (which the oldest supported version introduced). A loader that has the client ({@code
   * probeClass}) without the marker holds a version outside the range: it is left untouched and
   * the agent logs one line for it, with the version read from the client jar's Maven metadata.
   *
   * @param client the client's name in the log line, e.g. {@code Jedis}
   * @param mavenCoordinates {@code groupId:artifactId}, where the jar keeps its pom.properties
   * @param supportedRange the versions the agent supports, as the log line says it
   */
  public static ElementMatcher<ClassLoader> supportedVersion(
      String client,
      String mavenCoordinates,
      String probeClass,
      String markerClass,
      String supportedRange) {
    String marker = resourceOf(markerClass);
    String probe = resourceOf(probeClass);
    String pomProperties =
        "META-INF/maven/" + mavenCoordinates.replace(':', '/') + "/pom.properties";
    Map<ClassLoader, Boolean> cache = new WeakHashMap<>();
    return loader -> {
      if (loader == null) {
        return false; // Redis clients are never on the bootstrap class path
      }
      synchronized (cache) {
        Boolean hit = cache.get(loader);
        if (hit == null) {
          hit = loader.getResource(marker) != null;
          cache.put(loader, hit);
          URL probeUrl = hit ? null : loader.getResource(probe);
          if (probeUrl != null) {
            AgentLog.warn(
                client
                    + " "
                    + versionNextTo(probeUrl, probe, pomProperties)
                    + " is not supported (supported: "
                    + supportedRange
                    + "): left uninstrumented in class loader "
                    + loader.getClass().getName());
          }
        }
        return hit;
      }
    };
  }

  /**
   * The version in the pom.properties of the jar (or directory) that holds the probe class, not
   * the first one on the loader's path: a child loader may see another copy through its parent.
   */
  private static String versionNextTo(URL probeUrl, String probe, String pomProperties) {
    String location = probeUrl.toString();
    if (!location.endsWith(probe)) {
      return "(version unknown)";
    }
    try {
      URLConnection connection =
          new URL(location.substring(0, location.length() - probe.length()) + pomProperties)
              .openConnection();
      connection.setUseCaches(false); // never keep the application's jar open
      Properties properties = new Properties();
      try (InputStream in = connection.getInputStream()) {
        properties.load(in);
      }
      String version = properties.getProperty("version");
      return version == null || version.isEmpty() ? "(version unknown)" : version;
    } catch (Exception | LinkageError e) {
      return "(version unknown)";
    }
  }

  private static String resourceOf(String className) {
    return className.replace('.', '/') + ".class";
  }
}
