package dev.redisresilience.agent.telemetry.prometheus;

import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Paths;

/**
 * Loads the Prometheus exporter (and the Prometheus library under it) from the agent jar, child
 * first, with the platform class loader as parent: the exporter then sees
 * {@code com.sun.net.httpserver} (jdk.httpserver is defined to the platform loader), while the
 * SDK types it shares with the agent (MetricReader, the meter provider) still come from the
 * bootstrap class path through the parent, so the reader plugs into the agent's SDK.
 */
public final class ExporterClassLoader extends URLClassLoader {
  static {
    registerAsParallelCapable();
  }

  /**
   * Loaded here rather than from the bootstrap path. The shade plugin relocates these literals
   * together with the classes, so they match in the agent jar and in tests alike.
   */
  private static final String[] OWN = {
    "dev.redisresilience.agent.telemetry.prometheus.",
    "io.opentelemetry.exporter.prometheus.",
    "io.prometheus.",
  };

  public ExporterClassLoader(String agentJar) throws MalformedURLException {
    super(new URL[] {Paths.get(agentJar).toUri().toURL()}, ClassLoader.getPlatformClassLoader());
  }

  static boolean isOwn(String name) {
    for (String p : OWN) {
      if (name.startsWith(p)) {
        return true;
      }
    }
    return false;
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (!isOwn(name)) {
      return super.loadClass(name, resolve);
    }
    synchronized (getClassLoadingLock(name)) {
      Class<?> c = findLoadedClass(name);
      if (c == null) {
        c = findClass(name);
      }
      if (resolve) {
        resolveClass(c);
      }
      return c;
    }
  }
}
