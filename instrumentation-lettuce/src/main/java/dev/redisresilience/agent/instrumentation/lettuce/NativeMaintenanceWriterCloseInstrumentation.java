package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Lettuce 7.x {@code CommandExpiryWriter.close / closeAsync} (MaintenanceAwareExpiryWriter
 * inherits them): a closed connection leaves the relaxed_timeout gauge.
 */
final class NativeMaintenanceWriterCloseInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return Lettuce7Gate.LETTUCE_7_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return net.bytebuddy.matcher.ElementMatchers.named("io.lettuce.core.protocol.CommandExpiryWriter");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(namedOneOf("close", "closeAsync").and(takesArguments(0)), getClass().getName() + "$CloseAdvice");
  }

  public static class CloseAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(@Advice.This Object writer) {
      LettuceNativeMaintenance.writerClosed(writer);
    }
  }
}
