package dev.redisresilience.agent.install;

import java.util.Map;
import java.util.WeakHashMap;
import net.bytebuddy.matcher.ElementMatcher;

/** Marker-class gating: does this class loader see a class, without loading it. */
public final class ClassLoaderMatchers {
  private ClassLoaderMatchers() {}

  public static ElementMatcher<ClassLoader> hasClassNamed(String className) {
    String resource = className.replace('.', '/') + ".class";
    Map<ClassLoader, Boolean> cache = new WeakHashMap<>();
    return loader -> {
      if (loader == null) {
        return false; // Redis clients are never on the bootstrap class path
      }
      synchronized (cache) {
        Boolean hit = cache.get(loader);
        if (hit == null) {
          hit = loader.getResource(resource) != null;
          cache.put(loader, hit);
        }
        return hit;
      }
    };
  }
}
