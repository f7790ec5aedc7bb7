package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.core.ArgView;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.engine.CallState;
import dev.redisresilience.agent.telemetry.AgentFaults;
import dev.redisresilience.agent.telemetry.Operation;
import io.lettuce.core.protocol.RedisCommand;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.BiConsumer;

/**
 * One logical Lettuce command: the shared retry bookkeeping plus the command the application
 * holds (its future, Mono or sync call completes when this command does) and the database it
 * was dispatched on. Ends the operation when the command completes, on whichever thread that
 * happens. When the agent retries it ({@link LettuceAttempts}), each attempt is a fresh command
 * whose raw command carries this same call. A helper: injected next to Lettuce.
 */
public final class LettuceCall extends CallState implements ArgView, BiConsumer<Object, Throwable> {
  /** The command as dispatched: what the application's future, Mono or sync call is. */
  final RedisCommand<?, ?, ?> redisCommand;
  /** A database index (Redis has an int's worth at most): 4 bytes per operation, not 8. */
  final int database;
  /**
   * The connection's own command timeout when it was dispatched (RedisURI, setTimeout), in
   * milliseconds up to Integer.MAX_VALUE (as the timeout policy takes it).
   */
  final int appTimeoutMillis;
  /**
   * The connection the agent re-dispatches a retry on, null when the agent does not retry this
   * call (not an async-completed command, inside MULTI, the app flushes itself ...).
   */
  Object retryConnection;
  /** The command of the attempt in flight; null while a retry waits for its backoff. */
  volatile RedisCommand<?, ?, ?> current;
  /** The failure the attempt in flight retries, null on the first attempt. */
  volatile Failure retryCause;
  /** Attempts counted when the attempt in flight was dispatched (one never written counts too). */
  volatile int attemptsAtDispatch;
  /** When the attempt in flight began (its time is the next one's, for one kept queued). */
  volatile long attemptStartNanos = startNanos;
  /** The final failed attempt was booked where it failed: the completion books nothing more. */
  volatile boolean finalBooked;
  /** The agent is completing the application's command with the final outcome of a retry. */
  volatile boolean finishing;
  /** False when the connection held session state a new connection would not have. */
  final boolean portable;
  /** Lettuce 6.x, opted-in connection: the agent's maintenance-aware timer cuts this attempt. */
  volatile boolean relaxableTimeout;
  /**
   * The channel of the last attempt's write (a netty Channel). Plain: written and read on that
   * channel's event loop (the write, then the reply or failure).
   */
  Object lastChannel;
  /** The dispatching connection's session, null when it has none. */
  final LettuceSession session;

  LettuceCall(
      Operation op,
      CommandInfo info,
      RedisCommand<?, ?, ?> command,
      long database,
      long appTimeoutMillis,
      LettuceSession session) {
    super(op, info); // its own argument view: one object per operation
    this.redisCommand = command;
    this.current = command;
    this.database = (int) database;
    this.appTimeoutMillis = (int) Math.min(Integer.MAX_VALUE, Math.max(0, appTimeoutMillis));
    this.session = session;
    this.portable = session == null || session.portable();
  }

  /**
   * The arguments, encoded only when a decision needs them (safety class, block time); a benign
   * race may decode them twice, to the same bytes.
   */
  private byte[][] raw;

  private byte[][] raw() {
    byte[][] r = raw;
    if (r == null) {
      r = LettuceArgs.decode(redisCommand.getArgs());
      raw = r;
    }
    return r;
  }

  @Override
  public int count() {
    return raw().length;
  }

  @Override
  public byte[] arg(int i) {
    return raw()[i];
  }

  private static final AtomicIntegerFieldUpdater<LettuceCall> COMPLETED =
      AtomicIntegerFieldUpdater.newUpdater(LettuceCall.class, "completed");
  private volatile int completed;

  /**
   * True for the first of the command's completions: a sync wait that times out cancels the
   * command while the expiry timer may complete it on another thread.
   */
  boolean completesNow() {
    return COMPLETED.compareAndSet(this, 0, 1);
  }

  @Override
  public void accept(Object value, Throwable thrown) {
    try {
      LettuceOperations.completed(this, value, thrown);
    } catch (Throwable t) {
      AgentFaults.record(t);
    }
  }
}
