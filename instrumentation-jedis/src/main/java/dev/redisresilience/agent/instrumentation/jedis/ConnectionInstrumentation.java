package dev.redisresilience.agent.instrumentation.jedis;

import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.takesArgument;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.redisresilience.agent.install.TypeInstrumentation;
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
    t.applyAdvice(named("disconnect").and(takesArguments(0)), getClass().getName() + "$DisconnectAdvice");
    // pool validation and the cluster's random-node probe: never an application operation
    t.applyAdvice(named("ping").and(takesArguments(0)), getClass().getName() + "$InternalAdvice");
  }

  /**
   * A connect of a connection the agent could not restore is refused (the body is skipped and
   * the method throws): Jedis would otherwise open a bare socket, without AUTH or SELECT.
   */
  public static class ConnectAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Advice.OnNonDefaultValue.class)
    public static boolean enter(
        @Advice.This Object conn,
        @Advice.Local("wasConnected") boolean wasConnected,
        @Advice.Local("refused") Throwable refused) {
      wasConnected = ((redis.clients.jedis.Connection) conn).isConnected(); // connect() is a no-op then
      refused = wasConnected ? null : JedisConnections.connectGuard(conn);
      return refused != null;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.This Object conn,
        @Advice.Local("wasConnected") boolean wasConnected,
        @Advice.Local("refused") Throwable refused,
        @Advice.FieldValue("socketFactory") Object factory,
        @Advice.FieldValue("socket") Socket socket,
        @Advice.Thrown(readOnly = false) Throwable thrown) {
      if (refused != null) {
        thrown = refused;
      } else if (thrown != null) {
        JedisConnections.connectThrew(conn, factory, thrown);
      } else if (!wasConnected) {
        JedisConnections.connected(conn, factory, socket);
      }
    }
  }

  public static class HandshakeAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisConnState enter(
        @Advice.This Object conn,
        @Advice.FieldValue("socketFactory") Object factory,
        @Advice.Argument(0) JedisClientConfig config) {
      JedisConnState s = JedisConnections.handshake(conn, factory, config);
      JedisMaintenance.handshaking(s, config);
      return s;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.This Object conn, @Advice.Enter JedisConnState state, @Advice.Thrown Throwable thrown) {
      JedisMaintenance.optIn(conn, state, thrown);
      JedisConnections.handshakeDone(state, thrown);
    }
  }

  /**
   * One attempt. The enter advice prepares the connection and widens the blocking timeout field
   * for this attempt, or skips the body when the connection cannot be made fit; the exit advice
   * restores the field, records the attempt and may retry, replacing what the method returns or
   * throws with the retried outcome.
   */
  public static class ExecuteAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Advice.OnNonDefaultValue.class)
    public static boolean enter(
        @Advice.This Object conn,
        @Advice.FieldValue("socketFactory") Object factory,
        @Advice.FieldValue(value = "infiniteSoTimeout", readOnly = false) int infinite,
        @Advice.Argument(0) CommandObject<?> command,
        @Advice.Local("attempt") JedisAttempt attempt) {
      // the arguments, not the command object: see the exit advice
      attempt = JedisOperations.attemptEnter(conn, factory, command.getArguments());
      if (attempt == null) {
        return false;
      }
      if (attempt.refused != null) {
        return true; // not sent: the exit advice fails the attempt
      }
      infinite = JedisTimeouts.attemptTimeout(attempt, conn, command.getArguments().isBlocking(), infinite);
      JedisTimeouts.applyAttemptTimeout(attempt, conn);
      return false;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.This Object conn,
        @Advice.Local("attempt") JedisAttempt attempt,
        @Advice.Argument(0) CommandObject<?> command,
        @Advice.FieldValue(value = "infiniteSoTimeout", readOnly = false) int infinite,
        @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object returned,
        @Advice.Thrown(readOnly = false) Throwable thrown) {
      if (attempt != null) {
        if (attempt.refused != null) {
          thrown = attempt.refused; // first: not sent must never look like a reply, whatever follows
        } else {
          infinite = attempt.previousInfinite;
        }
        if (thrown == null) {
          // the common case, apart so that the command object is not handed to the agent there:
          // the JIT can then keep it off the heap, as it does without the agent
          JedisOperations.attemptSucceeded(attempt, conn);
        } else {
          JedisOutcome out = JedisOperations.attemptExit(attempt, conn, command, returned, thrown);
          if (out != null) {
            returned = out.value;
            thrown = out.thrown;
          }
        }
      }
    }
  }

  /** A legacy-style command's send; skipped (and failing) when the connection cannot be used. */
  public static class SendAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Advice.OnNonDefaultValue.class)
    public static boolean enter(
        @Advice.This Object conn,
        @Advice.FieldValue("socketFactory") Object factory,
        @Advice.Argument(0) CommandArguments args,
        @Advice.Local("attempt") JedisAttempt attempt) {
      attempt = JedisOperations.sendEnter(conn, factory, args);
      return attempt != null && attempt.refused != null;
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.This Object conn,
        @Advice.Local("attempt") JedisAttempt attempt,
        @Advice.Thrown(readOnly = false) Throwable thrown) {
      if (attempt != null) {
        if (attempt.refused != null) {
          thrown = attempt.refused;
        }
        JedisOperations.sendExit(conn, attempt, thrown);
      }
    }
  }

  /**
   * A reply's read. On RESP3 the enter advice first consumes the push frames waiting before the
   * reply (JedisPushes); it skips Jedis' read when it hands back a push of Jedis' own (returned as
   * the read's result) or failed reading (thrown, as Jedis' read would have).
   */
  public static class ReadAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class, skipOn = Advice.OnNonDefaultValue.class)
    public static Object enter(
        @Advice.This Object conn,
        @Advice.FieldValue("inputStream") Object in,
        @Advice.FieldValue("socket") Object socket) {
      return JedisPushes.beforeRead(conn, in, socket);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(
        @Advice.This Object conn,
        @Advice.Enter Object taken,
        @Advice.Return(readOnly = false, typing = Assigner.Typing.DYNAMIC) Object returned,
        @Advice.Thrown(readOnly = false) Throwable thrown) {
      if (taken instanceof Throwable) {
        thrown = (Throwable) taken;
      } else if (taken != null) {
        returned = taken;
      }
      JedisOperations.readExit(conn, thrown);
    }
  }

  /** The socket is closed: its maintenance state (relaxed timeouts) ends with it. */
  public static class DisconnectAdvice {
    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.This Object conn) {
      JedisMaintenance.disconnected(conn);
    }
  }

  public static class FlushAdvice {
    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.This Object conn, @Advice.Thrown Throwable thrown) {
      JedisOperations.flushFailed(conn, thrown);
    }
  }

  public static class InternalAdvice {
    @Advice.OnMethodEnter(suppress = Throwable.class)
    public static JedisConnState enter(@Advice.This Object conn) {
      return JedisConnections.beginInternal(conn);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    public static void exit(@Advice.Enter JedisConnState state) {
      JedisConnections.endInternal(state);
    }
  }
}
