package dev.redisresilience.agent.install;

import dev.redisresilience.agent.AgentLog;
import dev.redisresilience.agent.telemetry.AgentFaults;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Method;
import java.security.ProtectionDomain;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.function.Function;

/**
 * Defines client-typed helper classes in the class loader of the client they help, once per
 * loader. Helpers must see the client's own classes (a Spring Boot LaunchedClassLoader, a Tomcat
 * web-app loader ...), which the bootstrap-loaded agent cannot.
 *
 * <p>Modules name helper roots; {@link HelperClasses} adds their nested and synthetic classes, read
 * from the agent's class files on the first injection (no cost until a client is loaded).
 *
 * <p>The loader the agent itself runs in needs no injection: in production that is the bootstrap
 * loader (no client there); in in-process tests it is the test's class loader, whose clients
 * already see the helpers. Every other loader that loads a client gets the helpers, in tests too,
 * so a test with a child-first client loader exercises the same injection as production.
 *
 * <p>java.lang is opened to the agent through {@link Instrumentation#redefineModule}, so the
 * protected {@code ClassLoader.defineClass} can be called without sun.misc.Unsafe (no warnings on
 * JDK 24+).
 */
final class HelperInjector {
  private final List<String> roots;
  private final ClassLoader agentLoader;
  /** Roots plus nested classes, in define order; computed on the first injection. */
  private List<String> helperNames;
  private final Function<String, byte[]> classBytes;
  private final Map<ClassLoader, Boolean> injected = Collections.synchronizedMap(new WeakHashMap<>());
  private final Method defineClass;
  private final Map<String, byte[]> bytesCache = new HashMap<>();

  HelperInjector(
      Instrumentation inst,
      List<String> roots,
      ClassLoader agentLoader,
      Function<String, byte[]> classBytes) {
    this.roots = roots;
    this.agentLoader = agentLoader;
    this.classBytes = classBytes;
    Method m = null;
    if (!roots.isEmpty()) {
      try {
        Module agentModule = HelperInjector.class.getModule();
        Module javaBase = Object.class.getModule();
        if (!javaBase.isOpen("java.lang", agentModule)) {
          inst.redefineModule(
              javaBase,
              Collections.emptySet(),
              Collections.emptyMap(),
              Collections.singletonMap("java.lang", Set.of(agentModule)),
              Collections.emptySet(),
              Collections.emptyMap());
        }
        m =
            ClassLoader.class.getDeclaredMethod(
                "defineClass",
                String.class,
                byte[].class,
                int.class,
                int.class,
                ProtectionDomain.class);
        m.setAccessible(true);
      } catch (Exception e) {
        AgentLog.warn("cannot inject helper classes, instrumentation will be partial: " + e);
        m = null;
      }
    }
    this.defineClass = m;
  }

  /** Makes the helpers available to {@code loader}; safe to call many times. */
  void inject(ClassLoader loader) {
    if (loader == null || loader == agentLoader || defineClass == null || injected.containsKey(loader)) {
      return;
    }
    synchronized (injected) {
      if (injected.containsKey(loader)) {
        return;
      }
      if (helperNames == null) {
        try {
          helperNames = HelperClasses.expand(roots, this::bytes);
        } catch (RuntimeException e) {
          AgentFaults.record(e);
          helperNames = roots;
        }
      }
      for (String name : helperNames) {
        try {
          byte[] bytes = bytes(name);
          defineClass.invoke(loader, name, bytes, 0, bytes.length, null);
        } catch (java.lang.reflect.InvocationTargetException e) {
          if (!(e.getCause() instanceof LinkageError)) { // LinkageError: defined already
            AgentFaults.record(e.getCause());
          }
        } catch (Exception e) {
          AgentFaults.record(e);
        }
      }
      injected.put(loader, Boolean.TRUE);
    }
  }

  private byte[] bytes(String name) {
    synchronized (bytesCache) {
      return bytesCache.computeIfAbsent(name, classBytes);
    }
  }

  /** Reads a helper's class file from the agent's classes. */
  static byte[] readClassFile(net.bytebuddy.dynamic.ClassFileLocator agentClasses, String className) {
    try {
      net.bytebuddy.dynamic.ClassFileLocator.Resolution r = agentClasses.locate(className);
      if (!r.isResolved()) {
        throw new IllegalStateException("helper class not found in the agent: " + className);
      }
      return r.resolve();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
