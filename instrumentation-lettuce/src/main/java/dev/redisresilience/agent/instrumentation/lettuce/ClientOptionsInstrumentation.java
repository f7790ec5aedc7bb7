package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * {@code AbstractRedisClient.getOptions}: every connection of RedisClient and RedisClusterClient
 * is built from what it returns (endpoint, expiry writer, sync waits), whether the app set the
 * options or kept the defaults. Returning the options with the agent's timeouts applies the
 * timeout and offline-queue policy with Lettuce's own machinery.
 */
final class ClientOptionsInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.AbstractRedisClient");
  }

  @Override
  public void transform(Transformer t) {
    t.defineStateField(); // the options the app set, and the agent's version of them
    t.applyAdvice(named("getOptions").and(takesArguments(0)), getClass().getName() + "$GetOptionsAdvice");
  }

  public static class GetOptionsAdvice {
    @Advice.OnMethodExit(suppress = Throwable.class)
    public static void exit(
        @Advice.This Object client,
        @Advice.Return(readOnly = false) io.lettuce.core.ClientOptions options) {
      options = LettuceClientOptions.options(client, options);
    }
  }
}
