package dev.redisresilience.agent.instrumentation.jedis;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;
import redis.clients.jedis.CommandObject;

/**
 * {@code UnifiedJedis.executeCommand} (and {@code broadcastCommand} up to 7.x): the logical
 * operation of JedisPooled, RedisClient, JedisCluster, RedisClusterClient and every other
 * UnifiedJedis. Attempts below it (pool, cluster redirects, retries) belong to this one span.
 */
final class UnifiedJedisInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return JedisInstrumentationModule.JEDIS_4_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("redis.clients.jedis.UnifiedJedis");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(
        namedOneOf("executeCommand", "broadcastCommand")
            .and(takesArgument(0, named("redis.clients.jedis.CommandObject"))),
        getClass().getName() + "$ExecuteAdvice");
  }

  public static class ExecuteAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisCall enter(
        @Advice.Argument(0) CommandObject<?> command, @Advice.FieldValue("executor") Object executor) {
      return JedisOperations.unifiedEnter(command.getArguments(), executor);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.This Object unified,
        @Advice.Enter JedisCall call,
        @Advice.Argument(0) CommandObject<?> command,
        @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object returned,
        @Advice.Thrown(readOnly = false) Throwable thrown) {
      if (call != null) {
        if (thrown == null) {
          JedisOperations.unifiedSucceeded(call); // the common case: without the command object
        } else {
          JedisOutcome out = JedisOperations.unifiedExit(call, unified, command, returned, thrown);
          if (out != null) {
            returned = out.value;
            thrown = out.thrown;
          }
        }
      }
    }
  }
}
