package dev.redisresilience.agent.instrumentation.jedis;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;
import redis.clients.jedis.HostAndPort;

/**
 * {@code DefaultJedisSocketFactory.createSocket}: every new Jedis socket (pooled, cluster node,
 * legacy, reconnect) is made here: applies the connect timeout per policy, and sends sockets for
 * an endpoint a MOVING moved to the new endpoint ({@link JedisMoves}).
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
    t.applyAdvice(
        named("getSocketHostAndPort").and(takesArguments(0)), getClass().getName() + "$AddressAdvice");
  }

  public static class CreateAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(
        @Advice.FieldValue(value = "connectionTimeout", readOnly = false) int connectTimeout) {
      connectTimeout = JedisTimeouts.connectTimeout(connectTimeout);
    }

  }

  /** Where createSocket connects: the new endpoint while the configured one is moved (MOVING). */
  public static class AddressAdvice {
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(
        @Advice.FieldValue("hostAndPort") HostAndPort configured,
        @Advice.Return(readOnly = false) HostAndPort chosen) {
      chosen = JedisMoves.socketAddress(configured, chosen);
    }
  }
}
