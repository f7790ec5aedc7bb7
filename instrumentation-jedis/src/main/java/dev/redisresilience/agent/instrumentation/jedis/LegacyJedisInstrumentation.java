package dev.redisresilience.agent.instrumentation.jedis;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * The legacy {@code Jedis} class: tracks SELECT for db.namespace, and marks the state reset a
 * pool does on return (UNWATCH, DISCARD) as client-internal.
 */
final class LegacyJedisInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return JedisInstrumentationModule.JEDIS_4_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("redis.clients.jedis.Jedis");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(named("select").and(takesArguments(int.class)), getClass().getName() + "$SelectAdvice");
    t.applyAdvice(named("resetState").and(takesArguments(0)), getClass().getName() + "$ResetAdvice");
  }

  public static class SelectAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisConnState enter(@Advice.FieldValue("connection") Object connection) {
      return JedisConnections.selectEnter(connection);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.Enter JedisConnState state, @Advice.Argument(0) int index, @Advice.Thrown Throwable thrown) {
      JedisConnections.selectExit(state, index, thrown);
    }
  }

  public static class ResetAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisConnState enter(@Advice.FieldValue("connection") Object connection) {
      return JedisConnections.beginInternal(connection);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Enter JedisConnState state) {
      JedisConnections.endInternal(state);
    }
  }
}
