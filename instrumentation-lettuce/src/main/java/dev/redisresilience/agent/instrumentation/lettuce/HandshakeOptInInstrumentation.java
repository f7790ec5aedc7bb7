package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import java.util.concurrent.CompletionStage;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code RedisHandshake.initialize} (Lettuce 6.x only): the handshake of each connect and
 * reconnect, followed by the maintenance opt-in on RESP3 ({@link LettuceMaintenanceOptIn}).
 */
final class HandshakeOptInInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_WITHOUT_MAINTENANCE;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.RedisHandshake");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(named("initialize").and(takesArguments(1)), getClass().getName() + "$InitializeAdvice");
  }

  public static class InitializeAdvice {
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(
        @Advice.Argument(0) Object channel,
        @Advice.FieldValue("connectionState") Object connectionState,
        @Advice.Return(readOnly = false) CompletionStage<Void> handshake) {
      handshake = LettuceMaintenanceOptIn.afterHandshake(channel, connectionState, handshake);
    }
  }
}
