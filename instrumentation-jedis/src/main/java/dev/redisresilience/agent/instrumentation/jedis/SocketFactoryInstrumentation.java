package dev.redisresilience.agent.instrumentation.jedis;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code DefaultJedisSocketFactory.createSocket}: every new Jedis socket (pooled, cluster node,
 * legacy, reconnect) is made here: applies the connect timeout per policy.
 */
final class SocketFactoryInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return JedisInstrumentationModule.JEDIS_4_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("redis.clients.jedis.DefaultJedisSocketFactory");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(named("createSocket").and(takesArguments(0)), getClass().getName() + "$CreateAdvice");
  }

  public static class CreateAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(
        @Advice.FieldValue(value = "connectionTimeout", readOnly = false) int connectTimeout) {
      connectTimeout = JedisTimeouts.connectTimeout(connectTimeout);
    }

  }
}
