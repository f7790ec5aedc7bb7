package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code DefaultEndpoint.notifyChannelActive}: while a (re)connected channel is activated, the
 * client sends its own commands through dispatch (cluster CLUSTER MYID, pub/sub re-SUBSCRIBE).
 */
final class EndpointActivationInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.protocol.DefaultEndpoint");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(
        named("notifyChannelActive").and(takesArguments(1)),
        getClass().getName() + "$ActivationAdvice");
  }

  public static class ActivationAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter() {
      LettuceContext.enterActivation();
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit() {
      LettuceContext.exitActivation();
    }
  }
}
