package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import java.util.Collection;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code CommandHandler}, one per channel. {@code write}: the moment a command goes to a server;
 * binds the operation to the node the channel is connected to, which also covers cluster
 * routing, redirects and commands replayed after a reconnect. {@code drainQueue}: the commands
 * sent and not answered when the channel broke, which Lettuce would re-send after reconnecting.
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
    t.applyAdvice(named("drainQueue").and(takesArguments(0)), getClass().getName() + "$DrainAdvice");
  }

  public static class WriteAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(
        @Advice.This Object handler, @Advice.Argument(0) Object ctx, @Advice.Argument(1) Object msg) {
      LettuceConnections.write(handler, ctx, msg);
    }
  }

  public static class DrainAdvice {
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(@Advice.Return Collection<?> drained) {
      LettuceReplay.drained(drained);
    }
  }
}
