package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import io.lettuce.core.protocol.RedisCommand;
import java.util.Collection;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code RedisChannelHandler.dispatch}: every user command of every API (sync, async, reactive,
 * cluster, pub/sub) passes here exactly once; the handshake does not. The operation starts here
 * and ends when the command completes.
 */
final class ChannelHandlerInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.RedisChannelHandler");
  }

  @Override
  public void transform(Transformer t) {
    t.defineStateField(); // the session state in dispatch order (LettuceSession)
    t.applyAdvice(
        named("dispatch")
            .and(takesArguments(1))
            .and(takesArgument(0, named("io.lettuce.core.protocol.RedisCommand"))),
        getClass().getName() + "$DispatchAdvice");
    t.applyAdvice(
        named("dispatch").and(takesArguments(1)).and(takesArgument(0, named("java.util.Collection"))),
        getClass().getName() + "$DispatchAllAdvice");
    t.applyAdvice(
        named("setAutoFlushCommands").and(takesArguments(1)).and(takesArgument(0, boolean.class)),
        getClass().getName() + "$AutoFlushAdvice");
  }

  public static class AutoFlushAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(@Advice.This Object connection, @Advice.Argument(0) boolean autoFlush) {
      LettuceOperations.autoFlush(connection, autoFlush);
    }
  }

  public static class DispatchAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(@Advice.This Object connection, @Advice.Argument(0) RedisCommand<?, ?, ?> cmd) {
      LettuceOperations.dispatch(connection, cmd);
    }
  }

  public static class DispatchAllAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(@Advice.This Object connection, @Advice.Argument(0) Collection<?> cmds) {
      LettuceOperations.dispatchAll(connection, cmds);
    }
  }
}
