package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.protocol.RedisCommand;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code CommandExpiryWriter.potentiallyExpire} (Lettuce 6.x only): on a connection opted in to
 * maintenance notifications the command's timer is the agent's maintenance-aware one ({@link
 * LettuceRelaxedExpiry}), with the timeout Lettuce computed; elsewhere Lettuce's own.
 */
final class MaintenanceExpiryInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_WITHOUT_MAINTENANCE;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.protocol.CommandExpiryWriter");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(named("potentiallyExpire").and(takesArguments(2)), getClass().getName() + "$ExpireAdvice");
  }

  public static class ExpireAdvice {
    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
    public static boolean enter(
        @Advice.This Object writer,
        @Advice.Argument(0) RedisCommand<?, ?, ?> command,
        @Advice.Argument(1) ScheduledExecutorService executors,
        @Advice.FieldValue("applyConnectionTimeout") boolean applyConnectionTimeout,
        @Advice.FieldValue("timeout") long connectionTimeout,
        @Advice.FieldValue("source") TimeoutOptions.TimeoutSource source,
        @Advice.FieldValue("timeUnit") TimeUnit unit) {
      return LettuceRelaxedExpiry.expire(
          writer, command, executors, applyConnectionTimeout, connectionTimeout, source, unit);
    }
  }
}
