package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.AgentLog;
import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.policy.Policies;
import dev.redisresilience.agent.telemetry.AgentFaults;
import dev.redisresilience.agent.telemetry.Telemetry;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.StatefulRedisConnectionImpl;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandHandler;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.pubsub.PubSubEndpoint;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.AttributeKey;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * health-check.interval for Lettuce: a connection on which nothing was written for the interval
 * (a shared, multiplexed connection included) gets a PING, written straight to its channel so
 * that it is no application operation (no span, no db.client.operation.duration) and never joins
 * the offline queue. Recorded as for Jedis ({@code redis.client.health_checks},
 * {@code redis.client.health_check.duration}).
 *
 * <p>Nothing here blocks: one agent-owned daemon thread sweeps the endpoints every quarter of the
 * interval and hands each idle one to its channel's event loop, which checks again that a PING
 * is legal there (no command in flight, a blocking one included; not inside MULTI; not during a
 * MOVING hand-off; pub/sub connections are never checked) and writes it; the reply and the
 * timeout complete on the event loop. A PING not answered within the command timeout (or failed
 * by the connection) closes the channel: Lettuce's ConnectionWatchdog then reconnects, as after
 * any connection loss, instead of letting the application's next commands time out one by one on
 * a dead connection. An error reply (the server answered) counts as a failed check and leaves the
 * connection alone. Injected next to Lettuce.
 */
final class LettuceHealthChecks {
  private LettuceHealthChecks() {}

  private static final long MIN_SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
  private static final long MAX_SWEEP_NANOS = TimeUnit.SECONDS.toNanos(1);

  private static volatile ScheduledExecutorService timer;

  /** Starts the sweep with the first connection. */
  static void start() {
    if (timer != null) {
      return;
    }
    synchronized (LettuceHealthChecks.class) {
      if (timer == null) {
        ScheduledExecutorService t =
            Executors.newSingleThreadScheduledExecutor(
                r -> {
                  Thread th = new Thread(r, "redis-resilience-lettuce-health-check");
                  th.setDaemon(true);
                  return th;
                });
        timer = t;
        t.schedule(LettuceHealthChecks::sweep, MAX_SWEEP_NANOS, TimeUnit.NANOSECONDS);
      }
    }
  }

  private static void sweep() {
    long interval = Policies.get().healthCheckIntervalNanos();
    try {
      long now = System.nanoTime();
      for (LettuceEndpoints.State st : LettuceEndpoints.live()) {
        if (interval > 0) {
          consider(st, now, interval);
        }
      }
    } catch (Throwable t) {
      AgentFaults.record(t);
    } finally {
      long next =
          interval <= 0
              ? MAX_SWEEP_NANOS
              : Math.max(MIN_SWEEP_NANOS, Math.min(MAX_SWEEP_NANOS, interval / 4));
      timer.schedule(LettuceHealthChecks::sweep, next, TimeUnit.NANOSECONDS);
    }
  }

  private static void consider(LettuceEndpoints.State st, long now, long interval) {
    int writes = st.writes;
    if (writes != st.seenWrites) {
      st.seenWrites = writes;
      st.activeNanos = now;
      return;
    }
    if (st.checking || now - st.activeNanos < interval || !checkable(st)) {
      return;
    }
    Channel ch = st.channel;
    if (ch == null || !ch.isActive()) {
      return;
    }
    st.checking = true;
    try {
      ch.eventLoop().execute(() -> check(st, ch, writes));
    } catch (RejectedExecutionException e) {
      st.checking = false; // the event loop is shutting down
    }
  }

  /** Plain and cluster-node connections; not pub/sub (a RESP2 subscriber may not PING). */
  private static boolean checkable(LettuceEndpoints.State st) {
    Object c = st.connection;
    return c instanceof StatefulRedisConnectionImpl
        && !(c instanceof StatefulRedisPubSubConnection)
        && !(st.endpoint instanceof PubSubEndpoint);
  }

  /**
   * On the channel's event loop, where writes are ordered: an app command written before this
   * runs is on the stack (so the connection is not idle), and a MULTI dispatched before it is
   * seen by isMulti().
   */
  private static void check(LettuceEndpoints.State st, Channel ch, int writes) {
    try {
      CommandHandler handler = ch.pipeline().get(CommandHandler.class);
      if (!ch.isActive()
          || handler == null
          || !handler.getStack().isEmpty()
          || st.writes != writes
          || ((StatefulRedisConnectionImpl<?, ?>) st.connection).isMulti()
          || rebinding(ch)) {
        st.activeNanos = System.nanoTime();
        st.checking = false;
        return;
      }
      long timeoutMillis = timeoutMillis(st.connection);
      AsyncCommand<String, String, String> ping =
          new AsyncCommand<>(new Command<>(CommandType.PING, new StatusOutput<>(StringCodec.UTF8)));
      long t0 = System.nanoTime();
      st.activeNanos = t0;
      ScheduledFuture<?> expiry =
          ch.eventLoop()
              .schedule(
                  () -> {
                    ping.completeExceptionally(
                        new RedisCommandTimeoutException(
                            "health-check PING not answered within " + timeoutMillis + " ms"));
                  },
                  timeoutMillis,
                  TimeUnit.MILLISECONDS);
      // a channel that closes meanwhile fails the PING now (Lettuce would queue it for replay)
      ChannelFutureListener closed =
          f ->
              ping.completeExceptionally(
                  new RedisConnectionException("connection closed during the health-check PING"));
      ch.closeFuture().addListener(closed);
      ping.whenComplete(
          (reply, thrown) -> {
            expiry.cancel(false);
            ch.closeFuture().removeListener(closed);
            finished(st, ch, ping, t0, reply, thrown);
          });
      ch.writeAndFlush(ping);
    } catch (Throwable t) {
      st.checking = false;
      AgentFaults.record(t);
    }
  }

  /**
   * Lettuce 7.x: a MOVING hand-off is moving this channel's traffic to a new endpoint (its
   * MaintenanceAwareConnectionWatchdog marks the channel, and the endpoint buffers meanwhile).
   * Read by name: the key does not exist before 7.0. Lettuce 6.x: the agent's own hand-off
   * ({@link LettuceHandoffs}) is draining the channel.
   */
  private static boolean rebinding(Channel ch) {
    if (!LettuceHandoffs.connected(ch)) {
      return true;
    }
    if (!AttributeKey.exists(REBIND_ATTRIBUTE)) {
      return false;
    }
    AttributeKey<Object> key = AttributeKey.valueOf(REBIND_ATTRIBUTE);
    return ch.hasAttr(key) && "STARTED".equals(String.valueOf(ch.attr(key).get()));
  }

  private static final String REBIND_ATTRIBUTE = "rebindAddress";

  private static long timeoutMillis(Object connection) {
    Duration app =
        connection instanceof RedisChannelHandler
            ? ((RedisChannelHandler<?, ?>) connection).getTimeout()
            : null;
    long ms = LettuceTimeouts.commandTimeoutMillis(null, app == null ? 0 : app.toMillis());
    return ms > 0 ? ms : LettuceTimeouts.LETTUCE_DEFAULT_COMMAND_MILLIS;
  }

  private static void finished(
      LettuceEndpoints.State st,
      Channel ch,
      AsyncCommand<?, ?, ?> ping,
      long t0,
      Object reply,
      Throwable thrown) {
    try {
      long end = System.nanoTime();
      Failure f = LettuceErrors.classify(ping, thrown);
      if (f == null && !"PONG".equalsIgnoreCase(String.valueOf(reply))) {
        f = Failure.other(new IllegalStateException("health-check PING answered " + reply));
      }
      Telemetry.lettuce().resilience().healthCheck(st.server, f == null, end - t0);
      st.activeNanos = end;
      boolean dead =
          f != null && (f.kind() == Failure.Kind.TIMEOUT || f.kind() == Failure.Kind.CONNECTION);
      boolean failedBefore = st.lastCheckFailed;
      st.lastCheckFailed = f != null;
      // a connection that answers with an error at every check is logged once, not every interval
      if (f != null && (dead || !failedBefore)) {
        AgentLog.warn(
            "health check of a Lettuce connection to "
                + st.address
                + " failed ("
                + f.errorType()
                + ")"
                + (dead && ch.isActive() ? "; closing it so that Lettuce reconnects" : ""));
      }
      if (dead) {
        ch.close();
      }
    } catch (Throwable t) {
      AgentFaults.record(t);
    } finally {
      st.checking = false;
    }
  }
}
