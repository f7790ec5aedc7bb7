package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code CommandHandler.write}: the moment a command goes to a server. Binds the operation to
 * the node the channel is connected to, which also covers cluster routing, redirects and
 * commands replayed after a reconnect.
 */
final class CommandHandlerInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.protocol.CommandHandler");
  }

  @Override
  public void transform(Transformer t) {
    t.defineStateField();
    t.applyAdvice(named("write").and(takesArguments(3)), getClass().getName() + "$WriteAdvice");
  }

  public static class WriteAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(
        @Advice.This Object handler, @Advice.Argument(0) Object ctx, @Advice.Argument(1) Object msg) {
      LettuceHelper.write(handler, ctx, msg);
    }
  }
}
