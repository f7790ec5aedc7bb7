package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import io.lettuce.core.protocol.AsyncCommand;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code protocol.AsyncCommand}, the command behind every sync and async call: where each attempt
 * ends. When the agent retries the call, the failed attempt's completion is skipped (the
 * application's command stays pending) and {@link LettuceAttempts} dispatches the next attempt.
 * When the application's command completes, its operation ends here ({@link
 * LettuceOperations#completing}), without a completion listener per command.
 */
final class AsyncCommandInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.protocol.AsyncCommand");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(named("complete").and(takesArguments(0)), getClass().getName() + "$ReplyAdvice");
    t.applyAdvice(
        named("completeExceptionally").and(takesArguments(1)).and(takesArgument(0, Throwable.class)),
        getClass().getName() + "$FailureAdvice");
    // where the command's outcome is decided, before its future completes: complete() and
    // completeExceptionally() reach these only once its part count is down to 0 (one of them
    // wins), so the operation ends with what the application is about to see, before it sees it
    t.applyAdvice(named("completeResult").and(takesArguments(0)), getClass().getName() + "$ResultAdvice");
    t.applyAdvice(
        named("doCompleteExceptionally").and(takesArguments(1)).and(takesArgument(0, Throwable.class)),
        getClass().getName() + "$ExceptionalAdvice");
  }

  public static class ReplyAdvice {
    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
    public static boolean enter(@Advice.This AsyncCommand<?, ?, ?> command) {
      return LettuceAttempts.onReply(command);
    }
  }

  public static class FailureAdvice {
    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
    public static boolean enter(
        @Advice.This AsyncCommand<?, ?, ?> command, @Advice.Argument(0) Throwable thrown) {
      return LettuceAttempts.onFailure(command, thrown);
    }
  }

  public static class ResultAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(@Advice.This AsyncCommand<?, ?, ?> command) {
      LettuceOperations.completing(command, null);
    }
  }

  public static class ExceptionalAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(
        @Advice.This AsyncCommand<?, ?, ?> command, @Advice.Argument(0) Throwable thrown) {
      LettuceOperations.completing(command, thrown);
    }
  }
}
