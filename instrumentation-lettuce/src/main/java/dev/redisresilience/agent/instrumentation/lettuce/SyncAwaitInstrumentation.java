package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code internal.Futures.awaitOrCancel}: the sync API's wait. When it times out it cancels the
 * command on this thread; marking the wait lets that cancel be reported as a timeout.
 */
final class SyncAwaitInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.internal.Futures");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(named("awaitOrCancel"), getClass().getName() + "$AwaitAdvice");
  }

  public static class AwaitAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter() {
      LettuceContext.enterAwait();
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit() {
      LettuceContext.exitAwait();
    }
  }
}
