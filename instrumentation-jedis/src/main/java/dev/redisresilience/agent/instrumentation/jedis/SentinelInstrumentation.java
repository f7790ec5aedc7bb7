package dev.redisresilience.agent.instrumentation.jedis;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * The point where a Sentinel-managed Jedis switches master: initMaster(HostAndPort), called at
 * start and by the +switch-master listener, in JedisSentinelPool and SentineledConnectionProvider
 * (where the version has it: the provider of JedisSentineled and RedisSentinelClient).
 */
final class SentinelInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return JedisInstrumentationModule.JEDIS_4_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return namedOneOf(
        "redis.clients.jedis.JedisSentinelPool",
        "redis.clients.jedis.providers.SentineledConnectionProvider");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(
        named("initMaster")
            .and(takesArguments(1))
            .and(takesArgument(0, named("redis.clients.jedis.HostAndPort"))),
        getClass().getName() + "$InitMasterAdvice");
  }

  public static class InitMasterAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static void enter(@Advice.This Object owner, @Advice.Argument(0) Object master) {
      JedisSentinels.masterInit(owner, master);
    }
  }
}
