package dev.redisresilience.agent.install;

import dev.redisresilience.agent.AgentLog;
import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The only transformer premain registers: it looks at class names and nothing else. Classes of
 * the Redis clients go to the ByteBuddy transformer, which is built on a background thread while
 * the application starts; the first client class to load waits for it. Every other class of the
 * application is passed over by a string comparison, so start-up does not pay for ByteBuddy or
 * the OpenTelemetry SDK, and a big application does not pay ByteBuddy's matching for each class.
 */
final class LazyTransformer implements ClassFileTransformer {
  /** How long a client class may wait for the agent to finish setting up. */
  private static final long MAX_WAIT_SECONDS = 30;

  private final String[] prefixes;
  private final CountDownLatch done = new CountDownLatch(1);
  private volatile ClassFileTransformer delegate;

  LazyTransformer(String... internalNamePrefixes) {
    this.prefixes = internalNamePrefixes;
  }

  void ready(ClassFileTransformer t) {
    delegate = t;
    done.countDown();
  }

  void failed() {
    done.countDown();
  }

  @Override
  public byte[] transform(
      Module module,
      ClassLoader loader,
      String name,
      Class<?> redefined,
      ProtectionDomain domain,
      byte[] bytes) {
    if (name == null || !matches(name)) {
      return null;
    }
    ClassFileTransformer t = delegate;
    if (t == null) {
      try {
        if (!done.await(MAX_WAIT_SECONDS, TimeUnit.SECONDS)) {
          AgentLog.warn("set-up took over " + MAX_WAIT_SECONDS + "s; " + name.replace('/', '.') + " is not instrumented");
          return null;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
      t = delegate;
      if (t == null) {
        return null; // set-up failed (and said why)
      }
    }
    try {
      return t.transform(module, loader, name, redefined, domain, bytes);
    } catch (Throwable e) {
      return null; // never fail a class load
    }
  }

  private boolean matches(String name) {
    for (String p : prefixes) {
      if (name.startsWith(p)) {
        return true;
      }
    }
    return false;
  }
}
