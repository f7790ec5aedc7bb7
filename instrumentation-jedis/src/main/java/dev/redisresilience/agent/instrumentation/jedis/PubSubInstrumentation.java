package dev.redisresilience.agent.instrumentation.jedis;

import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Pub/sub and MONITOR sessions take over a connection for as long as they run (with an infinite
 * read timeout, and UNSUBSCRIBE sent from other threads). They are not request/response
 * operations: the connection is marked internal for the session, so nothing is reported, timed
 * out or retried on it.
 */
final class PubSubInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return JedisInstrumentationModule.JEDIS_4_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return namedOneOf(
        "redis.clients.jedis.JedisPubSubBase", // 5.0+
        "redis.clients.jedis.JedisShardedPubSubBase", // 5.0+
        "redis.clients.jedis.JedisPubSub", // 4.x
        "redis.clients.jedis.BinaryJedisPubSub", // 4.x
        "redis.clients.jedis.JedisShardedPubSub", // 4.x
        "redis.clients.jedis.BinaryJedisShardedPubSub", // 4.x
        "redis.clients.jedis.JedisMonitor");
  }

  @Override
  public void transform(Transformer t) {
    t.applyAdvice(
        nameStartsWith("proceed").and(takesArgument(0, named("redis.clients.jedis.Connection"))),
        getClass().getName() + "$SessionAdvice");
  }

  public static class SessionAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisConnState enter(@Advice.Argument(0) Object connection) {
      return JedisConnections.beginInternal(connection);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Enter JedisConnState state) {
      JedisConnections.subscriptionEnded(state);
    }
  }
}
