package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * The raw {@code protocol.Command} every wrapper ends in: it carries the operation (so a write on
 * the event loop finds it), and its cancel() ends the operation when a reactive subscriber
 * cancels (that path skips the wrapper's callbacks).
 */
final class CommandInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.protocol.Command");
  }

  @Override
  public void transform(Transformer t) {
    t.defineStateField();
    t.applyAdvice(named("cancel").and(takesArguments(0)), getClass().getName() + "$CancelAdvice");
  }

  public static class CancelAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static boolean enter(@Advice.This io.lettuce.core.protocol.RedisCommand<?, ?, ?> command) {
      // a subscriber that got its value cancels the finished command too: not a cancellation
      return command.isDone();
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(@Advice.This Object command, @Advice.Enter boolean wasDone) {
      if (!wasDone) {
        LettuceOperations.cancelled(command);
      }
    }
  }
}
