package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.core.SessionEffect;
import dev.redisresilience.agent.engine.RetryCoordinator;
import dev.redisresilience.agent.policy.RetryPolicy;
import dev.redisresilience.agent.telemetry.ResilienceTelemetry;
import dev.redisresilience.agent.telemetry.Telemetry;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.CommandObject;
import redis.clients.jedis.Connection;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;

/**
 * The three ways the agent takes part in Jedis' retries, each deciding through the shared
 * {@link RetryCoordinator} and sleeping the backoff on the caller's thread (Jedis is blocking):
 * in place on a legacy {@code Jedis} connection, through a {@code UnifiedJedis}' executor (a
 * fresh pooled connection), or as gatekeeper of Jedis' own loop (cluster, retrying executor).
 */
final class JedisRetries {
  private JedisRetries() {}

  private static volatile RetryCoordinator coordinator;

  /** The engine reporting to the telemetry installed now (one instance, not one per attempt). */
  static RetryCoordinator coordinator() {
    ResilienceTelemetry rt = Telemetry.jedis().resilience();
    RetryCoordinator c = coordinator;
    if (c == null || !c.reportsTo(rt)) {
      c = new RetryCoordinator(rt);
      coordinator = c;
    }
    return c;
  }

  /**
   * A failure before any attempt (the pool could not produce a connection, its handshake timed
   * out) is an attempt too — one whose command was never sent.
   */
  static Failure countUnattemptedFailure(JedisCall call, Failure f) {
    Failure notSent = JedisErrors.beforeSending(f);
    call.op.attempt();
    coordinator().attemptEnded(call, call.lastServer, notSent);
    return notSent;
  }

  /**
   * UnifiedJedis with a pool or one connection: runs the command again through the client, so
   * a pooled retry gets a healthy connection. Not when the failed attempt's connection carried
   * session state: another connection would not have it.
   */
  static void retryUnified(UnifiedJedis unified, CommandObject<?> co, JedisCall call, Failure first, JedisOutcome out) {
    RetryCoordinator rc = coordinator();
    Failure f = first;
    while (true) {
      JedisConnState conn = call.lastConnection;
      boolean portable = conn == null || conn.session.portable();
      long backoff = rc.decide(call, f, portable);
      if (backoff < 0) {
        if (!portable && f.kind() != Failure.Kind.SESSION_STATE_LOST) {
          out.thrown = JedisErrors.sessionStateLost(call.command.name(), conn.session.lost(), out.thrown);
        }
        return;
      }
      sleep(backoff);
      Failure cause = f;
      int attemptsBefore = call.op.attempts();
      call.retrying = true;
      try {
        out.value = unified.executeCommand(co);
        out.thrown = null;
        rc.retried(call, cause, true);
        return;
      } catch (RuntimeException | Error e) {
        out.thrown = e;
        f = JedisErrors.classify(e);
        rc.retried(call, cause, false);
        if (call.op.attempts() == attemptsBefore) {
          f = countUnattemptedFailure(call, f);
        }
      } finally {
        call.retrying = false;
      }
    }
  }

  /**
   * Legacy Jedis: retries on the same Connection; the retried attempt replaces a broken socket
   * first (see {@link JedisConnections#prepare}). A connection that must be replaced but carries
   * state the agent cannot restore (WATCH, MULTI, tracking ...) fails the call instead.
   */
  static void retryInPlace(
      Connection conn, CommandObject<?> co, JedisCall call, JedisConnState s, Failure first, JedisOutcome out) {
    RetryCoordinator rc = coordinator();
    SessionEffect effect = SessionEffect.of(call.command, call.args);
    Failure f = first;
    while (true) {
      boolean replaced = conn.isBroken() || !conn.isConnected() || s.agentDisconnected;
      boolean portable = !replaced || s.session.restorableInPlace(effect);
      long backoff = rc.decide(call, f, portable);
      if (backoff < 0) {
        if (!portable && f.kind() != Failure.Kind.SESSION_STATE_LOST) {
          out.thrown =
              JedisConnections.retire(
                  conn, s, JedisErrors.sessionStateLost(call.command.name(), s.session.lost(), out.thrown));
        }
        return;
      }
      sleep(backoff);
      Failure cause = f;
      call.retrying = true;
      try {
        out.value = conn.executeCommand(co);
        out.thrown = null;
        rc.retried(call, cause, true);
        return;
      } catch (RuntimeException | Error e) {
        out.thrown = e;
        f = JedisErrors.classify(e, s);
        rc.retried(call, cause, false);
      } finally {
        call.retrying = false;
      }
    }
  }

  /**
   * Jedis' own loop (cluster, retrying executor) retries every JedisConnectionException, within
   * its own maxAttempts and deadline; the agent adds no retries there. It lets Jedis retry unless
   * the retry is unsafe (the command may have run: INCR after a read timeout, jedis#3187), would
   * lose session state, or is over the server's retry budget: then the failure is rethrown as an
   * exception Jedis does not retry, naming the reason.
   */
  static void gatekeep(JedisCall call, JedisConnState s, Failure f, JedisOutcome out) {
    if (!(out.thrown instanceof JedisConnectionException)) {
      return; // redirections and server errors: Jedis' own business
    }
    RetryPolicy.Refusal refusal = coordinator().gate(call, s.serverState(), f, s.session.portable());
    if (refusal != null) {
      out.thrown = JedisErrors.veto(call, f, refusal, out.thrown);
    }
  }

  static void sleep(long nanos) {
    if (nanos <= 0) {
      return;
    }
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
