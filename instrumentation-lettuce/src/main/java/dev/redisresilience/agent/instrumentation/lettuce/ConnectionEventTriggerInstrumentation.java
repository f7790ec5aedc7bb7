package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code ConnectionEventTrigger.channelActive / channelInactive}: where Lettuce raises a
 * connection's activated and deactivated events, with the channel (and so its endpoint) at hand.
 */
final class ConnectionEventTriggerInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.ConnectionEventTrigger");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(named("channelActive").and(takesArguments(1)), getClass().getName() + "$ActiveAdvice");
    t.applyAdvice(named("channelInactive").and(takesArguments(1)), getClass().getName() + "$InactiveAdvice");
  }

  public static class ActiveAdvice {
    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Argument(0) Object ctx) {
      LettuceConnectionEvents.channelActive(ctx);
    }
  }

  public static class InactiveAdvice {
    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Argument(0) Object ctx) {
      LettuceConnectionEvents.channelInactive(ctx);
    }
  }
}
