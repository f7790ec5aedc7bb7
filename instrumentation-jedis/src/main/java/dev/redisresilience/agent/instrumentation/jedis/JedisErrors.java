package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.policy.RetryPolicy;
import java.net.SocketTimeoutException;
import java.util.Locale;
import redis.clients.jedis.exceptions.JedisClusterOperationException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Jedis exceptions in the agent's error taxonomy, and the exceptions the agent raises itself.
 * Injected next to Jedis (it touches Jedis types); error-reply prefixes are classified by the
 * core ({@link Failure#statusCodeOf}).
 */
final class JedisErrors {
  private JedisErrors() {}

  /** Maps a Jedis exception to the agent's error taxonomy; null for success. */
  static Failure classify(Throwable t) {
    if (t == null) {
      return null;
    }
    if (t instanceof AgentConnectionException) {
      return ((AgentConnectionException) t).failure;
    }
    if (t instanceof JedisConnectionException) {
      return classifyConnection((JedisConnectionException) t);
    }
    if (t instanceof JedisDataException) {
      String code = Failure.statusCodeOf(t.getMessage());
      return code != null ? Failure.server(code, t) : Failure.other(t);
    }
    if (t instanceof JedisException) {
      // executors (and the agent's veto) wrap the last failure
      Throwable inner = t.getCause();
      if (inner == null && t.getSuppressed().length > 0) {
        inner = t.getSuppressed()[0];
      }
      if (inner instanceof JedisException && inner != t) {
        Failure f = classify(inner);
        if (f.kind() != Failure.Kind.OTHER) {
          return f;
        }
      }
    }
    return Failure.other(t);
  }

  /** As {@link #classify(Throwable)}, knowing the attempt's connection (did its write fail?). */
  static Failure classify(Throwable t, JedisConnState s) {
    Failure f = classify(t);
    if (f != null && s != null && s.flushFailed && f.phase() == Failure.Phase.MAYBE_SENT
        && (f.kind() == Failure.Kind.CONNECTION || f.kind() == Failure.Kind.TIMEOUT)) {
      // the write failed: the request never fully reached the server
      return f.kind() == Failure.Kind.TIMEOUT
          ? Failure.timeout(Failure.Phase.NOT_SENT, t)
          : Failure.connection(Failure.Phase.NOT_SENT, t);
    }
    return f;
  }

  /**
   * The operation's failure: executors wrap the last attempt's failure in their own exception
   * ("No more cluster attempts left", "Cluster retry deadline exceeded"), sometimes without a
   * cause; then the last attempt's classification is the truthful error.type.
   */
  static Failure finalFailure(JedisCall call, Throwable thrown) {
    Failure f = classify(thrown);
    Failure last = call.lastFailure;
    if (f == null || f.kind() != Failure.Kind.OTHER || last == null) {
      return f;
    }
    if (last.kind() == Failure.Kind.TIMEOUT) {
      return Failure.timeout(last.phase(), thrown);
    }
    if (last.kind() == Failure.Kind.CONNECTION) {
      return Failure.connection(last.phase(), thrown);
    }
    if (last.kind() == Failure.Kind.SERVER) {
      return Failure.server(last.statusCode(), thrown);
    }
    return f;
  }

  private static Failure classifyConnection(JedisConnectionException e) {
    String message = String.valueOf(e.getMessage());
    if (message.startsWith("Attempting to write to a broken connection")) {
      return Failure.connection(Failure.Phase.NOT_SENT, e); // Jedis 8: refused before writing
    }
    Throwable cause = e.getCause();
    if (cause instanceof SocketTimeoutException) {
      String m = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
      return m.contains("connect") ? Failure.connectTimedOut(e) : Failure.timeout(Failure.Phase.MAYBE_SENT, e);
    }
    if (cause == null) {
      // connect failures carry each address' failure as suppressed exceptions
      boolean timedOut = false;
      boolean any = false;
      for (Throwable s : e.getSuppressed()) {
        any = true;
        if (s instanceof SocketTimeoutException) {
          timedOut = true;
        }
      }
      if (any) {
        return timedOut ? Failure.connectTimedOut(e) : Failure.connectFailed(e);
      }
    }
    if (cause instanceof java.net.ConnectException
        || cause instanceof java.net.UnknownHostException
        || cause instanceof java.net.NoRouteToHostException) {
      return Failure.connectFailed(e);
    }
    return Failure.connection(Failure.Phase.MAYBE_SENT, e);
  }

  /**
   * A failure that happened before the command could be sent (no attempt reached the server):
   * whatever it looks like (a handshake's read timeout), the command's outcome is known.
   */
  static Failure beforeSending(Failure f) {
    if (f.phase() == Failure.Phase.NOT_SENT || f.kind() == Failure.Kind.SERVER) {
      return f;
    }
    if (f.kind() == Failure.Kind.TIMEOUT) {
      return Failure.connectTimedOut(f.cause());
    }
    if (f.kind() == Failure.Kind.CONNECTION) {
      return Failure.connectFailed(f.cause());
    }
    return f;
  }

  /**
   * Replacing the connection's socket failed: the attempt is not sent. Classified by its cause: a
   * failed connect or handshake (retryable per policy), an error reply to the handshake
   * (WRONGPASS: per retry.on, normally not), or the agent's own inability to replay it (never).
   */
  static JedisConnectionException replaceFailed(Throwable cause) {
    Failure inner = classify(cause);
    Failure f = inner == null || inner.kind() == Failure.Kind.OTHER ? Failure.other(cause) : beforeSending(inner);
    return new AgentConnectionException(
        "reconnect failed (" + cause + "); the command was not sent (redis-resilience-agent)", cause, f);
  }

  /** The connection lost state the agent cannot restore: the command was not sent again. */
  static JedisConnectionException sessionStateLost(String command, String lost, Throwable cause) {
    String message =
        command + " not run: its connection was lost and with it " + lost
            + ", which a new connection would not have (redis-resilience-agent)";
    AgentConnectionException e = new AgentConnectionException(message, cause, null);
    e.failure = Failure.sessionStateLost(e);
    return e;
  }

  /**
   * A retry that Jedis' own loop (cluster, retrying executor) must not make: an exception Jedis
   * does not retry, naming the reason.
   */
  static JedisException veto(JedisCall call, Failure f, RetryPolicy.Refusal refusal, Throwable cause) {
    String name = call.command.name();
    String why;
    if (refusal == RetryPolicy.Refusal.NOT_IDEMPOTENT) {
      why = "outcome of " + name + " unknown after " + f.errorType() + "; not retried: the command is not idempotent";
    } else {
      why = name + " failed (" + f.errorType() + "); not retried: " + refusal.value;
    }
    String message = why + " (redis-resilience-agent)";
    return call.cluster ? new JedisClusterOperationException(message, cause) : new JedisException(message, cause);
  }
}
