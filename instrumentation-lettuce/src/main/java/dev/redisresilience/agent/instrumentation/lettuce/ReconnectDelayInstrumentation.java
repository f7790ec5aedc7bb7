package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code DefaultClientResources.reconnectDelay()}: every connection's watchdog asks for its
 * reconnect delay here. Where the resources kept Lettuce's default (exponential, no jitter: all
 * clients of a restarted server reconnect in lock step), the agent's jittered delay is returned
 * instead; a Delay the application configured is left alone.
 */
final class ReconnectDelayInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.resource.DefaultClientResources");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(named("reconnectDelay").and(takesArguments(0)), getClass().getName() + "$ReconnectDelayAdvice");
  }

  public static class ReconnectDelayAdvice {
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(
        @Advice.FieldValue("reconnectDelay") Object supplier,
        @Advice.Return(readOnly = false) io.lettuce.core.resource.Delay delay) {
      delay = LettuceReconnectDelay.of(supplier, delay);
    }
  }
}
