package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Lettuce 7.x {@code MaintenanceAwareExpiryWriter}, the writer that relaxes a connection's command
 * timeouts during maintenance: its start and end callbacks, read after Lettuce ran them, are the
 * truth the relaxed_timeout gauge mirrors (the writer itself is never wrapped or changed).
 */
final class NativeMaintenanceWriterInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return Lettuce7Gate.LETTUCE_7_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.protocol.MaintenanceAwareExpiryWriter");
  }

  @Override
  public void transform(Transformer t) {
    t.defineStateField(); // the connection's relaxed-timeout mirror
    t.applyAdvice(
        namedOneOf("onMigrateStarted", "onFailoverStarted").and(takesArguments(1))
            .or(named("onRebindStarted").and(takesArguments(2))),
        getClass().getName() + "$StartedAdvice");
    t.applyAdvice(
        namedOneOf("onMigrateCompleted", "onFailoverCompleted").and(takesArguments(1))
            .or(named("onRebindCompleted").and(takesArguments(0))),
        getClass().getName() + "$CompletedAdvice");
  }

  public static class StartedAdvice {
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(
        @Advice.This Object writer,
        @Advice.FieldValue("delegate") Object delegate,
        @Advice.FieldValue("relaxTimeouts") boolean relaxed) {
      LettuceNativeMaintenance.relaxing(writer, delegate, relaxed);
    }
  }

  public static class CompletedAdvice {
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(
        @Advice.This Object writer,
        @Advice.FieldValue("relaxTimeouts") boolean relaxed,
        @Advice.FieldValue("relaxedTimeout") Object grace) {
      LettuceNativeMaintenance.unrelaxing(writer, relaxed, grace);
    }
  }
}
