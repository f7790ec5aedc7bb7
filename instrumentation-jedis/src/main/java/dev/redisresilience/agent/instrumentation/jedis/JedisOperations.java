package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.CommandTable;
import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.core.SessionEffect;
import dev.redisresilience.agent.engine.MasterSwitches;
import dev.redisresilience.agent.telemetry.ClientTelemetry;
import dev.redisresilience.agent.telemetry.Operation;
import dev.redisresilience.agent.telemetry.Telemetry;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.CommandObject;
import redis.clients.jedis.Connection;

/**
 * The operations of Jedis as the agent sees them: a logical call (one span, one duration) and its
 * attempts on connections, legacy-style commands (sendCommand, then a reply read), pipelines and
 * transactions. What can fail (the application's arguments, preparing the connection) runs
 * before a call becomes the thread's current one, and the current call is always put back.
 *
 * <p>A sync call allocates nothing of its own: it runs on its thread's reusable records (call,
 * operation, argument view, attempt: {@link JedisFrame}), given back when it ends, and a
 * legacy-style command on its connection's ({@link JedisConnState#sendCall}). A record in use (a
 * call from inside another's callback, a send whose reply is not read yet, a nested attempt of a
 * retry) leaves the next one to a fresh allocation; pipelines and transactions, which outlive a
 * method call, always allocate theirs. The query text is built only for a span that is kept.
 */
public final class JedisOperations {
  private JedisOperations() {}

  /** A call of its own (nothing reused): for operations that may outlive the thread's use. */
  static JedisCall newCall(CommandArguments args, int mode) {
    ClientTelemetry t = Telemetry.jedis();
    CommandInfo cmd = CommandTable.get().lookup(args.getCommand().getRaw());
    // the arguments as an array only when a decision needs them (blocking time, safety class)
    JedisArgs view = new JedisArgs(args);
    return new JedisCall(t.startDeferred(cmd, view, JedisOperations.class), cmd, view, mode, false);
  }

  /**
   * A call on the thread's reusable records, or one of its own when they are taken; given back
   * with {@link #giveBack(JedisCall)} once its operation has ended.
   */
  static JedisCall takeCall(JedisFrame f, CommandArguments args, int mode) {
    if (f.callTaken) {
      return newCall(args, mode); // a call inside a call (a callback of the application's)
    }
    ClientTelemetry t = Telemetry.jedis();
    CommandInfo cmd = CommandTable.get().lookup(args.getCommand().getRaw());
    JedisCall call = f.call;
    Operation op = call != null ? call.op : null;
    if (op == null || !op.reusable() || !op.reportsTo(t)) {
      op = t.confinedOperation(); // the first call, a new telemetry, or one left unended by a fault
    }
    JedisArgs view = call != null && call.args instanceof JedisArgs ? (JedisArgs) call.args : new JedisArgs(null);
    view.reset(args);
    op = t.restart(op, cmd, view, JedisOperations.class);
    if (call == null) {
      call = new JedisCall(op, cmd, view, mode, false);
      call.frame = f;
      f.call = call;
    } else {
      call.restart(op, cmd, view, mode);
    }
    f.callTaken = true;
    return call;
  }

  /** The call's operation has ended: the thread's reusable call is free again, holding nothing. */
  static void giveBack(JedisCall call) {
    JedisFrame f = call.frame;
    if (f == null) {
      return;
    }
    if (call.args instanceof JedisArgs) {
      ((JedisArgs) call.args).reset(null); // the application's arguments are not kept
    }
    call.lastConnection = null;
    call.lastServer = null;
    call.lastFailure = null;
    f.callTaken = false;
  }

  /**
   * A legacy-style command's call: on the connection's reusable one when it is free (its last
   * command's reply was read), else one of its own (several sends before their replies).
   */
  static JedisCall sendCall(JedisConnState s, CommandArguments args) {
    JedisCall call = s.sendCall;
    ClientTelemetry t = Telemetry.jedis();
    if (call != null && call.op.reportsTo(t) && !call.op.reusable()) {
      return newCall(args, JedisCall.OBSERVE); // the reusable one waits for its reply
    }
    CommandInfo cmd = CommandTable.get().lookup(args.getCommand().getRaw());
    if (call == null || !call.op.reportsTo(t) || !(call.args instanceof JedisArgs)) {
      JedisArgs view = new JedisArgs(args);
      call = new JedisCall(t.restart(t.confinedOperation(), cmd, view, JedisOperations.class), cmd, view, JedisCall.OBSERVE, false);
      s.sendCall = call;
      return call;
    }
    JedisArgs view = (JedisArgs) call.args;
    view.reset(args);
    call.restart(t.restart(call.op, cmd, view, JedisOperations.class), cmd, view, JedisCall.OBSERVE);
    return call;
  }

  /** A legacy-style command's operation ended: its connection's reusable call holds nothing. */
  private static void sendEnded(JedisConnState s, Operation op) {
    JedisCall call = s.sendCall;
    if (call != null && call.op == op && call.args instanceof JedisArgs) {
      ((JedisArgs) call.args).reset(null);
    }
  }

  // --- UnifiedJedis ------------------------------------------------------------------------------

  /**
   * UnifiedJedis.executeCommand enter: a new logical operation unless one is running. The
   * executor decides who retries: the agent (pooled and single-connection executors) or Jedis
   * itself (cluster and retrying executors, where the agent only vetoes unsafe retries).
   */
  public static JedisCall unifiedEnter(CommandArguments args, Object executor) {
    JedisFrame f = JedisContext.frame();
    if (f.current != null) {
      return null;
    }
    int mode = retryMode(executor);
    boolean cluster = executor != null && executor.getClass().getName().endsWith(".ClusterCommandExecutor");
    JedisCall call = takeCall(f, args, mode);
    call.cluster = cluster;
    f.current = call; // last: nothing after it can fail
    return call;
  }

  static int retryMode(Object executor) {
    String n = executor == null ? "" : executor.getClass().getName();
    if (n.endsWith(".ClusterCommandExecutor") || n.endsWith(".RetryableCommandExecutor")) {
      return JedisCall.GATEKEEPER;
    }
    if (n.endsWith(".DefaultCommandExecutor") || n.endsWith(".SimpleCommandExecutor")) {
      return JedisCall.OWN_RETRIES;
    }
    return JedisCall.OBSERVE; // multi-database failover, circuit breakers: their own policy
  }

  /**
   * UnifiedJedis.executeCommand exit. With the agent's own retries (pooled and single-connection
   * executors) a failed call is run again through the executor, which borrows a healthy
   * connection from the pool; failures before any attempt (no connection could be made) are
   * retried here too.
   */
  /** UnifiedJedis.executeCommand exit without an exception. */
  public static void unifiedSucceeded(JedisCall call) {
    try {
      call.op.end(null);
    } finally {
      JedisContext.restore(null);
      giveBack(call);
    }
  }

  public static JedisOutcome unifiedExit(
      JedisCall call, Object unified, CommandObject<?> co, Object returned, Throwable thrown) {
    try {
      Failure f = JedisErrors.classify(thrown);
      if (f == null) {
        call.op.end(null);
        return null; // the common case: nothing to replace
      }
      JedisRedirects.attemptFailed(thrown);
      JedisOutcome out = new JedisOutcome(returned, thrown);
      if (call.mode == JedisCall.OWN_RETRIES) {
        if (call.op.attempts() == 0) {
          f = JedisRetries.countUnattemptedFailure(call, f); // the pool could not produce a connection
        }
        JedisRetries.retryUnified((redis.clients.jedis.UnifiedJedis) unified, co, call, f, out);
      }
      call.op.end(JedisErrors.finalFailure(call, out.thrown));
      return out;
    } finally {
      JedisContext.restore(null);
      giveBack(call);
    }
  }

  // --- attempts ----------------------------------------------------------------------------------

  /**
   * Connection.executeCommand enter: one attempt of the current call, or (legacy Jedis, nothing
   * current) a call of its own. Prepares the connection (replaces it when broken, health-checks
   * it when idle) and plans this attempt's read timeout. A connection that cannot be made fit
   * refuses the attempt: the advice then skips sending and the attempt fails with
   * {@link JedisAttempt#refused}.
   */
  public static JedisAttempt attemptEnter(Object connection, Object socketFactory, CommandArguments args) {
    JedisConnState s = JedisConnections.state(connection, socketFactory);
    if (s.suppressed > 0 || JedisSentinels.sentinelTraffic(s, args)) {
      return null;
    }
    JedisFrame frame = JedisContext.frame();
    JedisCall call = frame.current;
    boolean owner = call == null;
    if (owner) {
      call = takeCall(frame, args, JedisCall.OWN_RETRIES);
    }
    SessionEffect effect = SessionEffect.NONE;
    Throwable refused = null;
    JedisAttempt a = null;
    try {
      if (!call.batch) {
        effect = SessionEffect.of(call.command, call.args);
        if (call.mode != JedisCall.OBSERVE) {
          // never in multi-database failover: Jedis broke those connections on purpose, and a
          // replacement would take the write back to the database it failed away from
          refused = JedisConnections.prepare((Connection) connection, s, call.command, effect);
        }
      }
      a = frame.takeAttempt(call, owner, s);
      a.refused = refused;
      JedisTimeouts.plan(a);
      // nothing below should fail: the attempt is booked and (legacy Jedis) the call becomes current
      call.op.bind(s.endpoint());
      call.op.attempt();
      call.lastServer = s.serverState();
      call.lastConnection = s;
      s.flushFailed = false;
      if (refused == null) {
        JedisConnections.sending((Connection) connection, s, effect);
        s.inCommand = true;
      }
    } catch (RuntimeException | Error e) {
      // no attempt: the exit advice will not give the records back
      if (a != null) {
        JedisFrame.giveBack(a);
      }
      if (owner) {
        giveBack(call);
      }
      throw e;
    }
    if (owner) {
      frame.current = call;
    }
    return a;
  }

  /**
   * Connection.executeCommand exit. Records the attempt; on failure, retries per policy (agent's
   * own retries) or vetoes Jedis' retry (gatekeeper). Returns the outcome the caller gets.
   */
  /** Connection.executeCommand exit without an exception (the advice saw none). */
  public static void attemptSucceeded(JedisAttempt a, Object connection) {
    JedisConnState s = a.state;
    JedisCall call = a.call;
    try {
      s.inCommand = false;
      JedisTimeouts.rollback(a, connection);
      s.lastUsedNanos = System.nanoTime();
      JedisRetries.coordinator().attemptEnded(call, s.serverState(), null);
      if (a.owner) {
        call.op.end(null);
      }
    } finally {
      if (a.owner) {
        JedisContext.restore(null);
        giveBack(call);
      }
      JedisFrame.giveBack(a);
    }
  }

  public static JedisOutcome attemptExit(
      JedisAttempt a, Object connection, CommandObject<?> co, Object returned, Throwable thrown) {
    JedisConnState s = a.state;
    JedisCall call = a.call;
    try {
      s.inCommand = false;
      JedisTimeouts.rollback(a, connection);
      s.lastUsedNanos = System.nanoTime();
      Failure f = JedisErrors.classify(thrown, s);
      JedisRetries.coordinator().attemptEnded(call, s.serverState(), f);
      if (f == null) {
        if (a.owner) {
          call.op.end(null);
        }
        return null; // the common case: nothing to replace
      }
      JedisRedirects.attemptFailed(thrown);
      if (MasterSwitches.refusedForRole(f)) {
        JedisSentinels.refusedForRole((Connection) connection, s, call); // before a retry decides
      }
      JedisOutcome out = new JedisOutcome(returned, thrown);
      if (f != null && !call.retrying && !call.batch) {
        if (call.mode == JedisCall.GATEKEEPER) {
          JedisRetries.gatekeep(call, s, f, out);
        } else if (a.owner) {
          JedisRetries.retryInPlace((Connection) connection, co, call, s, f, out); // legacy Jedis
        }
      }
      if (a.owner) {
        call.op.end(JedisErrors.classify(out.thrown, s));
      }
      return out;
    } finally {
      if (a.owner) {
        JedisContext.restore(null);
        giveBack(call);
      }
      JedisFrame.giveBack(a);
    }
  }

  // --- legacy-style commands (sendCommand, then a reply read) ------------------------------------

  /**
   * Connection.sendCommand enter. Inside a call the send is part of it; otherwise it is a
   * legacy-style command (sendCommand then a getXxxReply) whose reply ends it. Returns the
   * command's attempt when it is one of its own.
   */
  public static JedisAttempt sendEnter(Object connection, Object socketFactory, CommandArguments args) {
    JedisConnState s = JedisConnections.state(connection, socketFactory);
    if (s.suppressed > 0 || JedisSentinels.sentinelTraffic(s, args)) {
      JedisConnections.internalCommand(s, args);
      return null;
    }
    JedisFrame frame = JedisContext.frame();
    JedisCall current = frame.current;
    if (current != null) {
      if (current.batch) {
        batchCommand(s, args); // WATCH, MULTI, EXEC of a transaction pass here
      }
      current.op.bind(s.endpoint());
      return null;
    }
    JedisCall call = sendCall(s, args);
    SessionEffect effect;
    Throwable refused;
    try {
      effect = SessionEffect.of(call.command, call.args);
      refused = s.hasPending() ? null : JedisConnections.prepare((Connection) connection, s, call.command, effect);
    } catch (RuntimeException | Error e) {
      if (s.sendCall == call) {
        s.sendCall = null; // started and never to end: the next send makes a new one
      }
      throw e;
    }
    JedisAttempt a = frame.takeAttempt(call, true, s);
    a.refused = refused;
    call.op.bind(s.endpoint());
    call.op.attempt();
    s.flushFailed = false;
    if (refused == null) {
      JedisConnections.sending((Connection) connection, s, effect);
      s.inCommand = true;
    }
    return a;
  }

  private static void batchCommand(JedisConnState s, CommandArguments args) {
    CommandInfo cmd = CommandTable.get().lookup(args.getCommand().getRaw());
    SessionEffect e = SessionEffect.of(cmd, SessionEffect.dependsOnArgs(cmd) ? new JedisArgs(args) : null);
    if (e != SessionEffect.NONE) {
      s.session.sent(e);
    }
  }

  public static void sendExit(Object connection, JedisAttempt a, Throwable thrown) {
    JedisConnState s = a.state;
    Operation op = a.call.op;
    JedisFrame.giveBack(a);
    s.inCommand = false;
    if (thrown != null) {
      Failure f = JedisErrors.classify(thrown, s);
      JedisRetries.coordinator().attemptEnded(null, s.serverState(), f);
      op.end(f);
      sendEnded(s, op);
    } else {
      op.bind(s.endpoint()); // sendCommand may have connected: bind the peer too
      s.push(op);
    }
  }

  /** A reply was read (or reading failed): ends the oldest legacy-style command waiting for it. */
  public static void readExit(Object connection, Throwable thrown) {
    JedisConnState s = JedisConnections.state(connection);
    if (s.suppressed > 0 || JedisContext.current() != null) {
      return;
    }
    Operation op = s.poll();
    if (op != null) {
      s.lastUsedNanos = System.nanoTime();
      Failure f = JedisErrors.classify(thrown, s);
      JedisRetries.coordinator().attemptEnded(null, s.serverState(), f);
      op.end(f);
      sendEnded(s, op);
    }
  }

  /** flush() failed: marks the attempt (its request never fully left) and fails waiting commands. */
  public static void flushFailed(Object connection, Throwable thrown) {
    if (thrown == null) {
      return;
    }
    JedisConnState s = JedisConnections.state(connection);
    s.flushFailed = true;
    if (s.suppressed > 0 || JedisContext.current() != null) {
      return;
    }
    Failure f = JedisErrors.classify(thrown, s);
    Operation op;
    while ((op = s.poll()) != null) {
      op.end(f);
      sendEnded(s, op);
    }
  }

  // --- pipelines and transactions ----------------------------------------------------------------

  static JedisBatch batch(Object pipeline, String name, boolean create) {
    StateHolder h = (StateHolder) pipeline;
    JedisBatch b = (JedisBatch) h.__rraState();
    if (b == null && create) {
      b = new JedisBatch(Telemetry.jedis().startBatch(name, JedisOperations.class));
      h.__rraSetState(b);
    }
    return b;
  }

  /** appendCommand / multi enter: joins (or starts) the batch; returns the context to restore. */
  public static JedisCall batchStep(Object pipeline, String name, boolean countsCommand) {
    JedisBatch b = batch(pipeline, name, true);
    if (countsCommand) {
      b.size++;
    }
    return JedisContext.enter(b.call);
  }

  /** sync / exec / discard / close enter: returns the batch to end, or null. */
  public static JedisBatch batchEndEnter(Object pipeline) {
    JedisBatch b = batch(pipeline, null, false);
    if (b == null) {
      return null;
    }
    ((StateHolder) pipeline).__rraSetState(null);
    b.prev = JedisContext.enter(b.call);
    return b;
  }

  public static void batchEndExit(JedisBatch b, Throwable thrown) {
    if (b != null) {
      endBatch(b, JedisErrors.classify(thrown));
    }
  }

  /**
   * Transaction.exec exit: a null reply is a WATCH abort (redis-py's WatchError), classified
   * {@code watch_aborted}; transactions are never retried.
   */
  public static void execExit(JedisBatch b, Object replies, Throwable thrown) {
    if (b != null) {
      endBatch(b, thrown == null && replies == null ? Failure.watchAborted() : JedisErrors.classify(thrown));
    }
  }

  private static void endBatch(JedisBatch b, Failure f) {
    JedisContext.restore(b.prev);
    b.call.op.setBatchSize(b.size);
    b.call.op.end(f);
  }
}
