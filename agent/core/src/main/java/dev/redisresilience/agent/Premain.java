package dev.redisresilience.agent;

import java.io.File;
import java.lang.instrument.Instrumentation;
import java.net.URI;
import java.util.jar.JarFile;

/**
 * The {@code Premain-Class}. Loaded by the system class loader, so it does as little as possible:
 * put the agent jar on the bootstrap class path (the bridge must be visible from every class
 * loader) and hand over to the installer loaded from there. Nothing here may throw into the JVM:
 * an agent that cannot start leaves the application running without it.
 */
public final class Premain {
  private Premain() {}

  public static void premain(String args, Instrumentation inst) {
    start(inst, false);
  }

  /** Dynamic attach: only clients loaded after this point are instrumented. */
  public static void agentmain(String args, Instrumentation inst) {
    start(inst, true);
  }

  private static void start(Instrumentation inst, boolean dynamic) {
    try {
      URI location = Premain.class.getProtectionDomain().getCodeSource().getLocation().toURI();
      File jar = new File(location);
      inst.appendToBootstrapClassLoaderSearch(new JarFile(jar));
      Class<?> installer =
          Class.forName("dev.redisresilience.agent.install.AgentInstaller", true, null);
      installer
          .getMethod("installFromAgent", Instrumentation.class, String.class, boolean.class)
          .invoke(null, inst, jar.getPath(), dynamic);
    } catch (Throwable t) {
      Throwable cause = t instanceof java.lang.reflect.InvocationTargetException ? t.getCause() : t;
      System.err.println(
          "[redis-resilience-agent] warn: failed to start; the application continues without the"
              + " agent: "
              + cause);
    }
  }
}
