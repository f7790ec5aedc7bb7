package dev.redisresilience.agent.instrumentation.jedis;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Pool factories (JedisFactory for JedisPool, ConnectionFactory for pooled UnifiedJedis): their
 * validation PINGs, SELECTs on activation and re-AUTH are the client's own traffic; a broken
 * connection they destroy is a connection replaced.
 */
final class PoolFactoryInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return JedisInstrumentationModule.JEDIS_4_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return namedOneOf("redis.clients.jedis.JedisFactory", "redis.clients.jedis.ConnectionFactory");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(
        namedOneOf("activateObject", "validateObject", "passivateObject").and(takesArguments(1)),
        getClass().getName() + "$InternalAdvice");
    t.applyAdvice(named("destroyObject").and(takesArguments(1)), getClass().getName() + "$DestroyAdvice");
  }

  public static class InternalAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisConnState enter(@Advice.Argument(0) Object pooled) {
      return JedisConnections.beginInternalPooled(pooled);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Enter JedisConnState state) {
      JedisConnections.endInternal(state);
    }
  }

  /** A broken connection the pool destroys is replaced by a new one on the next borrow. */
  public static class DestroyAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisConnState enter(@Advice.Argument(0) Object pooled) {
      return JedisConnections.destroyingPooled(pooled);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Enter JedisConnState state) {
      JedisConnections.endInternal(state);
    }
  }
}
