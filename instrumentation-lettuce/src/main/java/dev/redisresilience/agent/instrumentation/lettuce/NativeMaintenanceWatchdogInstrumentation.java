package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Lettuce 7.x {@code MaintenanceAwareConnectionWatchdog}, the push listener that acts on
 * maintenance notifications. {@code onPushMessage}: each push it receives, reported before
 * Lettuce handles it (never changed, never consumed). {@code channelActive}: a (re)connected
 * channel, handshake done: where a MOVING's hand-off ends. {@code rebind} (private): Lettuce acts
 * on a MOVING it could parse.
 */
final class NativeMaintenanceWatchdogInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return Lettuce7Gate.LETTUCE_7_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.protocol.MaintenanceAwareConnectionWatchdog");
  }

  @Override
  public void transform(Transformer t) {
    t.defineStateField(); // the MOVING awaiting its reconnect (LettuceNativeMaintenance)
    t.applyAdvice(named("onPushMessage").and(takesArguments(1)), getClass().getName() + "$PushAdvice");
    t.applyAdvice(named("channelActive").and(takesArguments(1)), getClass().getName() + "$ActiveAdvice");
    t.applyAdvice(named("rebind").and(takesArguments(1)), getClass().getName() + "$RebindAdvice");
  }

  public static class PushAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(
        @Advice.This Object watchdog,
        @Advice.FieldValue("channel") Object channel,
        @Advice.Argument(0) Object message) {
      LettuceNativeMaintenance.pushed(watchdog, channel, message);
    }
  }

  public static class ActiveAdvice {
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(
        @Advice.This Object watchdog,
        @Advice.FieldValue("componentListeners") Object components,
        @Advice.Argument(0) Object ctx) {
      LettuceNativeMaintenance.channelActive(watchdog, components, ctx);
    }
  }

  public static class RebindAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(@Advice.This Object watchdog) {
      LettuceNativeMaintenance.rebinding(watchdog);
    }
  }
}
