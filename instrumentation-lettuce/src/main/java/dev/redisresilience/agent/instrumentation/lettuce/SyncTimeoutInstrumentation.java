package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.nameEndsWith;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.returns;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * The sync API's invocation handlers (standalone, cluster, multi-database): how long a sync call
 * waits for its command before it cancels it. Lettuce waits one command timeout; when the agent
 * may retry the command, the wait covers its attempts ({@link LettuceAttempts#syncWaitNanos}),
 * while each attempt is still cut at its own timeout by Lettuce's expiry. During a maintenance
 * window the wait follows the relaxed timeout: on Lettuce 6.x a command under the agent's
 * maintenance-aware timer waits up to the relaxed timeout ({@link LettuceRelaxedExpiry}: that
 * timer cuts it); on 7.x a command on a server in a window waits as long as Lettuce's relaxed
 * expiry lets it run ({@link LettuceNativeMaintenance#syncWaitNanos}).
 */
final class SyncTimeoutInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return nameStartsWith("io.lettuce.core.").and(nameEndsWith("FutureSyncInvocationHandler"));
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(
        named("getTimeoutNs").and(takesArguments(1)).and(returns(long.class)),
        getClass().getName() + "$TimeoutAdvice");
  }

  public static class TimeoutAdvice {
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(
        @Advice.Argument(0) Object future, @Advice.Return(readOnly = false) long timeoutNanos) {
      timeoutNanos =
          LettuceAttempts.syncWaitNanos(
              future,
              LettuceNativeMaintenance.syncWaitNanos(
                  future, LettuceRelaxedExpiry.syncWaitNanos(future, timeoutNanos)));
    }
  }
}
