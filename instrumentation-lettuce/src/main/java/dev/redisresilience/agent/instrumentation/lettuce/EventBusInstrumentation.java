package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code DefaultEventBus.publish}: every connection event (reconnect failed, connection
 * activated ...) on the thread that publishes it. Lettuce delivers events to subscribers
 * asynchronously and drops them when a subscriber lags; read here, none is lost.
 */
final class EventBusInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.event.DefaultEventBus");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(named("publish").and(takesArguments(1)), getClass().getName() + "$PublishAdvice");
  }

  public static class PublishAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(@Advice.Argument(0) Object event) {
      LettuceConnections.published(event);
      LettuceConnectionEvents.published(event);
    }
  }
}
