package dev.redisresilience.agent.instrumentation.jedis;

import static net.bytebuddy.matcher.ElementMatchers.declaresMethod;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.nameContains;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.namedOneOf;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import dev.redisresilience.agent.telemetry.TelemetryNames;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/**
 * Transactions: MULTI ... EXEC (or DISCARD) is ONE operation named MULTI with
 * db.operation.batch.size = the queued commands. WATCH and UNWATCH stay operations of their own.
 */
final class TransactionInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return JedisInstrumentationModule.JEDIS_4_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return nameStartsWith("redis.clients.jedis.")
        .and(nameContains("Transaction"))
        .and(declaresMethod(PipelineInstrumentation.APPEND.or(named("exec"))));
  }

  @Override
  public void transform(Transformer t) {
    t.defineStateField();
    t.applyAdvice(
        named("multi").and(takesArguments(0)).and(not(isAbstract())),
        getClass().getName() + "$MultiAdvice");
    t.applyAdvice(
        PipelineInstrumentation.APPEND.and(not(isAbstract())),
        getClass().getName() + "$AppendAdvice");
    t.applyAdvice(
        named("exec").and(takesArguments(0)).and(not(isAbstract())), getClass().getName() + "$ExecAdvice");
    t.applyAdvice(
        namedOneOf("discard", "close").and(takesArguments(0)).and(not(isAbstract())),
        getClass().getName() + "$EndAdvice");
  }

  public static class MultiAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisCall enter(@Advice.This Object tx) {
      return JedisOperations.batchStep(tx, TelemetryNames.OPERATION_MULTI, false);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Enter JedisCall previous) {
      JedisContext.restore(previous);
    }
  }

  public static class AppendAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisCall enter(@Advice.This Object tx) {
      return JedisOperations.batchStep(tx, TelemetryNames.OPERATION_MULTI, true);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Enter JedisCall previous) {
      JedisContext.restore(previous);
    }
  }

  /** EXEC: a null reply means a WATCHed key changed and the server ran none of it. */
  public static class ExecAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisBatch enter(@Advice.This Object tx) {
      return JedisOperations.batchEndEnter(tx);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.Enter JedisBatch batch,
        @Advice.Return(typing = Assigner.Typing.DYNAMIC) Object replies,
        @Advice.Thrown Throwable thrown) {
      JedisOperations.execExit(batch, replies, thrown);
    }
  }

  public static class EndAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisBatch enter(@Advice.This Object tx) {
      return JedisOperations.batchEndEnter(tx);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Enter JedisBatch batch, @Advice.Thrown Throwable thrown) {
      JedisOperations.batchEndExit(batch, thrown);
    }
  }
}
