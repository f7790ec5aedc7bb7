package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code CommandHandler} (Lettuce 6.x only), for Smart Client Handoffs: {@code notifyPushListeners}
 * sees every push message of the channel ({@link LettucePushes}), {@code channelRead} lets a
 * channel handing off close once its last reply came ({@link LettuceHandoffs}), {@code
 * channelInactive} ends the channel's maintenance window.
 */
final class PushNotificationInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_WITHOUT_MAINTENANCE;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.protocol.CommandHandler");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(named("notifyPushListeners").and(takesArguments(1)), getClass().getName() + "$PushAdvice");
    t.applyAdvice(named("channelRead").and(takesArguments(2)), getClass().getName() + "$ReadAdvice");
    t.applyAdvice(named("channelInactive").and(takesArguments(1)), getClass().getName() + "$InactiveAdvice");
  }

  public static class PushAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(
        @Advice.This Object handler,
        @Advice.FieldValue("channel") Object channel,
        @Advice.Argument(0) Object message) {
      LettucePushes.received(handler, channel, message);
    }
  }

  public static class ReadAdvice {
    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.This Object handler, @Advice.Argument(0) Object ctx) {
      LettuceHandoffs.read(handler, ctx);
    }
  }

  public static class InactiveAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(@Advice.Argument(0) Object ctx) {
      LettuceMaintenance.closed(ctx);
    }
  }
}
