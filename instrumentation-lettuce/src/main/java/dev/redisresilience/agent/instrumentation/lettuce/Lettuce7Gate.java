package dev.redisresilience.agent.instrumentation.lettuce;

import java.util.Map;
import java.util.WeakHashMap;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * The gate of the Lettuce 7.x-only instrumentation: a supported Lettuce whose loader sees
 * MaintenanceAwareConnectionWatchdog (7.0+, where Lettuce handles Smart Client Handoffs itself).
 * Not injected: used by the installer only.
 */
final class Lettuce7Gate {
  private static final String MARKER = "io/lettuce/core/protocol/MaintenanceAwareConnectionWatchdog.class";
  private static final Map<ClassLoader, Boolean> CACHE = new WeakHashMap<>();

  // MaintenanceAwareConnectionWatchdog arrived in 7.0 with MaintNotificationsConfig
  static final ElementMatcher<ClassLoader> LETTUCE_7_PLUS =
      loader -> {
        if (loader == null || !LettuceInstrumentationModule.LETTUCE_6_1_PLUS.matches(loader)) {
          return false;
        }
        synchronized (CACHE) {
          return CACHE.computeIfAbsent(loader, l -> l.getResource(MARKER) != null);
        }
      };

  private Lettuce7Gate() {}
}
