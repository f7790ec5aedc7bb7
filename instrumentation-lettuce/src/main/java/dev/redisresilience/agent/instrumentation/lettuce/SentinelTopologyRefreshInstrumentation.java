package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Where Lettuce's Master/Replica with Sentinel connects to the sentinels it watches
 * (potentiallyConnectSentinels: one pub/sub connection per sentinel, PSUBSCRIBE *): those
 * connections are the client's own, never operations.
 */
final class SentinelTopologyRefreshInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.masterreplica.SentinelTopologyRefresh");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(
        named("potentiallyConnectSentinels").and(takesArguments(0)),
        getClass().getName() + "$ConnectSentinelsAdvice");
  }

  public static class ConnectSentinelsAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter() {
      LettuceSentinels.internalConnectsBegin();
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit() {
      LettuceSentinels.internalConnectsEnd();
    }
  }
}
