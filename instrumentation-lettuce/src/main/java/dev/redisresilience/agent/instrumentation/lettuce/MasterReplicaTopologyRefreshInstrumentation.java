package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Where Lettuce's Master/Replica topology refresh connects to every node to rank them
 * (getConnections: CLIENT SETNAME lettuce#MasterReplicaTopologyRefresh, then PING): those
 * connections are the client's own, never operations.
 */
final class MasterReplicaTopologyRefreshInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.masterreplica.MasterReplicaTopologyRefresh");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(
        named("getConnections").and(takesArguments(1)), getClass().getName() + "$ConnectNodesAdvice");
  }

  public static class ConnectNodesAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter() {
      LettuceSentinels.internalConnectsBegin();
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit() {
      LettuceSentinels.internalConnectsEnd();
    }
  }
}
