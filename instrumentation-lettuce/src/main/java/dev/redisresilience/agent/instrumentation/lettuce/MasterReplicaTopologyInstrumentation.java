package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * The point where Lettuce's Master/Replica connection takes a refreshed topology (at connect, and
 * for Sentinel on every +switch-master and topology event): a new master there is a failover.
 */
final class MasterReplicaTopologyInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.masterreplica.MasterReplicaConnectionProvider");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(named("setKnownNodes").and(takesArguments(1)), getClass().getName() + "$KnownNodesAdvice");
  }

  public static class KnownNodesAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(
        @Advice.FieldValue("knownNodes") Object current, @Advice.Argument(0) Object next) {
      LettuceSentinels.knownNodes(current, next);
    }
  }
}
