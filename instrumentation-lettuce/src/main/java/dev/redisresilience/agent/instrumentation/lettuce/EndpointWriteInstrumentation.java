package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code DefaultEndpoint} (every connection's writer, cluster nodes included). {@code write}: each
 * command the application sends, where Lettuce buffers it while disconnected: noted for the idle
 * health check and bounded by offline-queue.max-size (a command past the bound is failed and
 * Lettuce's write skipped). {@code notifyChannelActive}: the endpoint's channel, server and
 * connection after each connect.
 */
final class EndpointWriteInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.protocol.DefaultEndpoint");
  }

  @Override
  public void transform(Transformer t) {
    t.defineStateField(); // LettuceEndpoints.State
    t.applyAdvice(
        named("write")
            .and(takesArguments(1))
            .and(
                takesArgument(0, named("io.lettuce.core.protocol.RedisCommand"))
                    .or(takesArgument(0, named("java.util.Collection")))),
        getClass().getName() + "$WriteAdvice");
    t.applyAdvice(
        named("notifyChannelActive").and(takesArguments(1)), getClass().getName() + "$ActiveAdvice");
  }

  public static class WriteAdvice {
    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
    public static boolean enter(
        @Advice.This Object endpoint,
        @Advice.Argument(0) Object commands,
        @Advice.FieldValue("channel") Object channel,
        @Advice.FieldValue("disconnectedBuffer") Object offlineQueue,
        @Advice.FieldValue("autoFlushCommands") boolean autoFlush) {
      return LettuceEndpoints.write(endpoint, channel, offlineQueue, autoFlush, commands);
    }

    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(
        @Advice.Enter boolean rejected,
        @Advice.Argument(0) Object commands,
        @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object returned) {
      if (rejected) {
        returned = commands; // failed already, as Lettuce returns a command it rejects
      }
    }
  }

  public static class ActiveAdvice {
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(
        @Advice.This Object endpoint,
        @Advice.Argument(0) Object channel,
        @Advice.FieldValue("disconnectedBuffer") Object offlineQueue,
        @Advice.FieldValue("connectionFacade") Object connection) {
      LettuceEndpoints.activated(endpoint, channel, offlineQueue, connection);
    }
  }
}
