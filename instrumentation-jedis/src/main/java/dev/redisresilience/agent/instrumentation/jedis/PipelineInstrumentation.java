package dev.redisresilience.agent.instrumentation.jedis;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.nameContains;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import dev.redisresilience.agent.telemetry.TelemetryNames;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Pipelines (Pipeline, ClusterPipeline, MultiDb pipelines): everything queued until a sync is ONE
 * operation named PIPELINE with db.operation.batch.size, from the first queued command to the end
 * of the sync that reads the replies.
 */
final class PipelineInstrumentation implements TypeInstrumentation {
  static final ElementMatcher.Junction<MethodDescription> APPEND =
      named("appendCommand").and(takesArguments(1))
          .and(takesArgument(0, named("redis.clients.jedis.CommandObject")));

  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return JedisInstrumentationModule.JEDIS_4_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    // by name first: every Jedis 4-8 class that declares appendCommand is named *Pipelin*
    // (Pipeline, PipeliningBase, MultiNodePipelineBase, mcf.MultiDbPipeline, ...) or *Transaction*;
    // declaresMethod alone would parse every method of CommandObjects, UnifiedJedis and Jedis
    // (~15 MB of garbage at their first load)
    // PipeliningBase (5+) is left alone: it declares only the abstract appendCommand, and its
    // 250 KB of command methods cost ~13 MB of garbage to rewrite; its subclasses get the field
    return nameStartsWith("redis.clients.jedis.")
        .and(nameContains("Pipelin"))
        .and(not(named("redis.clients.jedis.PipeliningBase")))
        .and(not(nameContains("Transaction")))
        .and(declaresMethod(APPEND));
  }

  @Override
  public void transform(Transformer t) {
    t.defineStateField();
    t.applyAdvice(APPEND.and(not(isAbstract())), getClass().getName() + "$AppendAdvice");
    t.applyAdvice(
        namedOneOf("sync", "syncAndReturnAll", "close").and(takesArguments(0)).and(not(isAbstract())),
        getClass().getName() + "$SyncAdvice");
  }

  public static class AppendAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisCall enter(@Advice.This Object pipeline) {
      return JedisOperations.batchStep(pipeline, TelemetryNames.OPERATION_PIPELINE, true);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Enter JedisCall previous) {
      JedisContext.restore(previous);
    }
  }

  public static class SyncAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisBatch enter(@Advice.This Object pipeline) {
      return JedisOperations.batchEndEnter(pipeline);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Enter JedisBatch batch, @Advice.Thrown Throwable thrown) {
      JedisOperations.batchEndExit(batch, thrown);
    }
  }
}
