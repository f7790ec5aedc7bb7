package dev.redisresilience.agent.instrumentation.jedis;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/** CLUSTER SLOTS discovery (start-up, after MOVED, periodic refresh) is client-internal. */
final class ClusterSlotsInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return JedisInstrumentationModule.JEDIS_4_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("redis.clients.jedis.JedisClusterInfoCache");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(
        named("executeClusterSlots")
            .and(takesArguments(1))
            .and(takesArgument(0, named("redis.clients.jedis.Connection"))),
        getClass().getName() + "$InternalAdvice");
  }

  public static class InternalAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisConnState enter(@Advice.Argument(0) Object connection) {
      return JedisConnections.beginInternal(connection);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Enter JedisConnState state) {
      JedisConnections.endInternal(state);
    }
  }
}
