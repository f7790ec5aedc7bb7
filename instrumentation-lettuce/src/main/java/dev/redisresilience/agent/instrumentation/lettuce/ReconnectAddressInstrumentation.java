package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import java.net.SocketAddress;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code ReconnectionHandler.reconnect0} (Lettuce 6.x only): the address the watchdog reconnects
 * to, redirected to a MOVING's target while its hand-off holds ({@link LettuceHandoffs}).
 */
final class ReconnectAddressInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_WITHOUT_MAINTENANCE;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.protocol.ReconnectionHandler");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(named("reconnect0").and(takesArguments(2)), getClass().getName() + "$AddressAdvice");
  }

  public static class AddressAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(
        @Advice.Argument(0) Object result,
        @Advice.Argument(value = 1, readOnly = false) SocketAddress remote,
        @Advice.FieldValue("connectionFacade") Object connection) {
      remote = LettuceHandoffs.reconnectAddress(connection, remote, result);
    }
  }
}
