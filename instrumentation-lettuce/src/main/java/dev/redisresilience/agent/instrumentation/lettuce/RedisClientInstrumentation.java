package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Where RedisClient makes a standalone or pub/sub connection object (before it connects): one
 * made for Lettuce's own topology machinery is marked client-internal from the start, one made
 * from a Sentinel RedisURI (connectStandaloneAsync) is marked sentinel-managed.
 */
final class RedisClientInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.RedisClient");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(
        namedOneOf("newStatefulRedisConnection", "newStatefulRedisPubSubConnection"),
        getClass().getName() + "$NewConnectionAdvice");
    t.applyAdvice(
        named("connectStandaloneAsync").and(takesArguments(3)),
        getClass().getName() + "$StandaloneConnectAdvice");
  }

  public static class StandaloneConnectAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static boolean enter(@Advice.Argument(1) Object uri) {
      return LettuceSentinels.standaloneConnectBegin(uri);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Enter boolean begun) {
      LettuceSentinels.standaloneConnectEnd(begun);
    }
  }

  public static class NewConnectionAdvice {
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(@Advice.Return Object connection) {
      LettuceSentinels.connectionCreated(connection);
    }
  }
}
