package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.returns;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code DefaultEndpoint} (Lettuce 6.x only), for the MOVING hand-off ({@link LettuceHandoffs}):
 * {@code isConnected} is false for a channel handing off (new commands wait in the disconnected
 * buffer for the new channel), {@code notifyChannelActive} completes a hand-off.
 */
final class HandoffEndpointInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_WITHOUT_MAINTENANCE;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.protocol.DefaultEndpoint");
  }

  @Override
  public void transform(Transformer t) {
    // 6.1: isConnected(); 6.8: isConnected(Channel) with the field's value
    t.applyAdvice(
        named("isConnected").and(returns(boolean.class)).and(takesArguments(0).or(takesArguments(1))),
        getClass().getName() + "$ConnectedAdvice");
    t.applyAdvice(named("notifyChannelActive").and(takesArguments(1)), getClass().getName() + "$ActiveAdvice");
  }

  public static class ConnectedAdvice {
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(
        @Advice.FieldValue("channel") Object channel, @Advice.Return(readOnly = false) boolean connected) {
      if (connected && !LettuceHandoffs.connected(channel)) {
        connected = false;
      }
    }
  }

  public static class ActiveAdvice {
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(
        @Advice.Argument(0) Object channel, @Advice.FieldValue("connectionFacade") Object connection) {
      LettuceHandoffs.activated(connection, channel);
    }
  }
}
