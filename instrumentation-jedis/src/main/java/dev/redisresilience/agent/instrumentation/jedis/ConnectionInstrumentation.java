package dev.redisresilience.agent.instrumentation.jedis;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
import dev.redisresilience.agent.telemetry.Operation;
import java.net.Socket;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.implementation.bytecode.assign.Assigner;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.CommandObject;
import redis.clients.jedis.JedisClientConfig;

/**
 * {@code redis.clients.jedis.Connection}: every attempt and every legacy-style command passes
 * here. Carries the per-connection state (endpoint, internal-traffic marker, pending replies).
 */
final class ConnectionInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return JedisInstrumentationModule.JEDIS_4_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("redis.clients.jedis.Connection");
  }

  @Override
  public void transform(Transformer t) {
    t.defineStateField();
    t.applyAdvice(named("connect").and(takesArguments(0)), getClass().getName() + "$ConnectAdvice");
    t.applyAdvice(
        named("initializeFromClientConfig")
            .and(takesArguments(1))
            .and(takesArgument(0, named("redis.clients.jedis.JedisClientConfig"))),
        getClass().getName() + "$HandshakeAdvice");
    t.applyAdvice(
        named("executeCommand").and(takesArgument(0, named("redis.clients.jedis.CommandObject"))),
        getClass().getName() + "$ExecuteAdvice");
    t.applyAdvice(
        named("sendCommand")
            .and(takesArguments(1))
            .and(takesArgument(0, named("redis.clients.jedis.CommandArguments"))),
        getClass().getName() + "$SendAdvice");
    t.applyAdvice(
        named("readProtocolWithCheckingBroken").and(takesArguments(0)),
        getClass().getName() + "$ReadAdvice");
    t.applyAdvice(named("flush").and(takesArguments(0)), getClass().getName() + "$FlushAdvice");
    // pool validation and the cluster's random-node probe: never an application operation
    t.applyAdvice(named("ping").and(takesArguments(0)), getClass().getName() + "$InternalAdvice");
  }

  public static class ConnectAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static boolean enter(@Advice.This Object conn) {
      return ((redis.clients.jedis.Connection) conn).isConnected(); // connect() is a no-op then
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.This Object conn,
        @Advice.Enter boolean wasConnected,
        @Advice.FieldValue("socketFactory") Object factory,
        @Advice.FieldValue("socket") Socket socket,
        @Advice.Thrown Throwable thrown) {
      if (thrown != null) {
        JedisHelper.connectThrew(conn, factory, thrown);
      } else if (!wasConnected) {
        JedisHelper.connected(conn, factory, socket);
      }
    }
  }

  public static class HandshakeAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisConnState enter(
        @Advice.This Object conn,
        @Advice.FieldValue("socketFactory") Object factory,
        @Advice.Argument(0) JedisClientConfig config) {
      return JedisHelper.handshake(conn, factory, config);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Enter JedisConnState state, @Advice.Thrown Throwable thrown) {
      JedisHelper.handshakeDone(state, thrown);
    }
  }

  /**
   * One attempt. The enter advice prepares the connection and widens the blocking timeout field
   * for this attempt; the exit advice restores it, records the attempt and may retry, replacing
   * what the method returns or throws with the retried outcome.
   */
  public static class ExecuteAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisAttempt enter(
        @Advice.This Object conn,
        @Advice.FieldValue("socketFactory") Object factory,
        @Advice.FieldValue(value = "infiniteSoTimeout", readOnly = false) int infinite,
        @Advice.Argument(0) CommandObject<?> command) {
      JedisAttempt a = JedisHelper.attemptEnter(conn, factory, command);
      if (a != null) {
        infinite = JedisHelper.attemptTimeout(a, conn, command.getArguments().isBlocking(), infinite);
        JedisHelper.applyAttemptTimeout(a, conn);
      }
      return a;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.This Object conn,
        @Advice.Enter JedisAttempt attempt,
        @Advice.Argument(0) CommandObject<?> command,
        @Advice.FieldValue(value = "infiniteSoTimeout", readOnly = false) int infinite,
        @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object returned,
        @Advice.Thrown(readOnly = false) Throwable thrown) {
      if (attempt != null) {
        infinite = attempt.previousInfinite;
        JedisHelper.Outcome out = JedisHelper.attemptExit(attempt, conn, command, returned, thrown);
        if (out != null) {
          returned = out.value;
          thrown = out.thrown;
        }
      }
    }
  }

  public static class SendAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static Operation enter(
        @Advice.This Object conn,
        @Advice.FieldValue("socketFactory") Object factory,
        @Advice.Argument(0) CommandArguments args) {
      return JedisHelper.sendEnter(conn, factory, args);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.This Object conn, @Advice.Enter Operation op, @Advice.Thrown Throwable thrown) {
      JedisHelper.sendExit(conn, op, thrown);
    }
  }

  public static class ReadAdvice {
    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.This Object conn, @Advice.Thrown Throwable thrown) {
      JedisHelper.readExit(conn, thrown);
    }
  }

  public static class FlushAdvice {
    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.This Object conn, @Advice.Thrown Throwable thrown) {
      JedisHelper.flushFailed(conn, thrown);
    }
  }

  public static class InternalAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisConnState enter(@Advice.This Object conn) {
      return JedisHelper.beginInternal(conn);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Enter JedisConnState state) {
      JedisHelper.endInternal(state);
    }
  }
}
