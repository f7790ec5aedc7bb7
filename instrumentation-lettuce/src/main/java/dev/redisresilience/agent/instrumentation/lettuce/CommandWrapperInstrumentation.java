package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import io.lettuce.core.protocol.RedisCommand;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code protocol.CommandWrapper}, whose subclass {@code RedisPublisher.SubscriptionCommand} is
 * the command behind a reactive call: where its attempts end. When the agent retries the call,
 * the failed attempt's completion is skipped (the subscriber sees nothing yet) and {@link
 * LettuceAttempts} dispatches the next attempt; other wrappers complete as always.
 */
final class CommandWrapperInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.protocol.CommandWrapper");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(named("complete").and(takesArguments(0)), getClass().getName() + "$ReplyAdvice");
    t.applyAdvice(
        named("completeExceptionally").and(takesArguments(1)).and(takesArgument(0, Throwable.class)),
        getClass().getName() + "$FailureAdvice");
  }

  public static class ReplyAdvice {
    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
    public static boolean enter(@Advice.This RedisCommand<?, ?, ?> command) {
      return LettuceAttempts.onWrapperReply(command);
    }
  }

  public static class FailureAdvice {
    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
    public static boolean enter(@Advice.This RedisCommand<?, ?, ?> command, @Advice.Argument(0) Throwable thrown) {
      return LettuceAttempts.onWrapperFailure(command, thrown);
    }
  }
}
