package dev.redisresilience.agent.testing;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;

/**
 * A class loader that loads the client library (and a test driver) itself instead of asking its
 * parent, like a Tomcat web-app or Spring Boot loader does for the application's jars. The test
 * class path has the client too, so a plain child loader would never load a client class: this one
 * is child-first for the given package prefixes and parent-first for everything else (the JDK, the
 * agent, the client's own dependencies).
 */
public final class ChildFirstClassLoader extends URLClassLoader {
  static {
    registerAsParallelCapable();
  }

  private final List<String> childFirst;

  /**
   * @param urls where the child-first classes are read from (the client jar, the driver's classes)
   * @param childFirst binary-name prefixes loaded by this loader, e.g. {@code redis.clients.}
   */
  public ChildFirstClassLoader(URL[] urls, ClassLoader parent, List<String> childFirst) {
    super("child-first", urls, parent);
    this.childFirst = childFirst;
  }

  /** Where {@code c} was loaded from, for building a child loader's URLs. */
  public static URL locationOf(Class<?> c) {
    return c.getProtectionDomain().getCodeSource().getLocation();
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (!isChildFirst(name)) {
      return super.loadClass(name, resolve);
    }
    synchronized (getClassLoadingLock(name)) {
      // helpers the agent injected are found here too, before any look-up elsewhere
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

  /**
   * A child-first class's file is looked up here only, as {@link #loadClass} does: a client older
   * than the parent's copy must not appear to have the parent's newer classes (the agent's
   * version gates look for marker classes with {@code getResource}).
   */
  @Override
  public URL getResource(String name) {
    if (name.endsWith(".class") && isChildFirst(name.replace('/', '.'))) {
      return findResource(name);
    }
    return super.getResource(name);
  }

  private boolean isChildFirst(String name) {
    for (String prefix : childFirst) {
      if (name.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }
}
