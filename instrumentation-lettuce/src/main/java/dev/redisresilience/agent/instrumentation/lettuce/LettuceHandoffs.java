package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.maintenance.MaintenanceNotice;
import dev.redisresilience.agent.maintenance.MaintenancePolicy;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.TelemetryNames;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.protocol.CommandHandler;
import io.lettuce.core.protocol.RedisCommand;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The MOVING hand-off on Lettuce 6.x, with Lettuce's own reconnect: the connection stops taking
 * new commands on the old channel (its endpoint sees it as disconnected, so they wait in Lettuce's
 * disconnected buffer), the commands in flight finish there, and once its command stack is empty
 * the channel is closed; the watchdog reconnects to the endpoint the MOVING named (the address the
 * reconnect resolves is redirected until the notice's time has passed) and Lettuce sends the
 * buffered commands on the new channel. No command is sent twice: the old channel closes with none
 * outstanding (or, after the hold, with only done ones: timed out or cancelled, which Lettuce does
 * not resend).
 * A null endpoint hands off to the same address after time/2. Only for connections that reconnect
 * by themselves (auto-reconnect) and are not cluster node connections: any other one just keeps
 * its relaxed timeouts. Reported as
 * redis.client.connection.handoff (success when the new channel is up, failure when the reconnect
 * to the target failed: the next attempt goes to the original address). Injected next to Lettuce.
 */
public final class LettuceHandoffs {
  /** One MOVING hand-off of one connection. */
  static final class Handoff {
    final MaintenanceNotice notice;
    final long startNanos;
    final ServerState from;
    /** Null: the same address (a null endpoint). */
    final InetSocketAddress target;
    final Channel oldChannel;
    /** Reconnects go to the target until then. */
    final long untilNanos;
    volatile boolean reported;

    Handoff(MaintenanceNotice n, long start, ServerState from, InetSocketAddress target, Channel old, long until) {
      this.notice = n;
      this.startNanos = start;
      this.from = from;
      this.target = target;
      this.oldChannel = old;
      this.untilNanos = until;
    }
  }

  /** The hand-off under way per connection (Lettuce's ConnectionFacade), weak: closed ones leave. */
  private static final Map<Object, Handoff> PENDING = Collections.synchronizedMap(new WeakHashMap<>());

  private LettuceHandoffs() {}

  /** How often a hand-off waiting for a transaction (or WATCH) to end looks again. */
  static final long TRANSACTION_RECHECK_MILLIS = 20;

  /** A MOVING on this channel (its event loop). */
  static void moving(CommandHandler handler, LettuceMaintenance m, MaintenanceNotice n) {
    MaintenancePolicy p = MaintenancePolicy.get();
    // a hand-off that waits for the app's transaction waits at most this long, then relaxes only
    long giveUp = System.nanoTime() + Math.max(p.relaxedTimeoutNanos(), TimeUnit.SECONDS.toNanos(Math.max(0, n.timeSeconds())));
    if (n.isMovingInPlace()) {
      long delayMillis = Math.max(0, n.timeSeconds()) * 1000 / 2;
      m.channel.eventLoop().schedule(() -> start(handler, m, n, giveUp), delayMillis, TimeUnit.MILLISECONDS);
    } else {
      start(handler, m, n, giveUp);
    }
  }

  private static void start(CommandHandler handler, LettuceMaintenance m, MaintenanceNotice n, long giveUp) {
    Channel ch = m.channel;
    Object endpoint = handler.getEndpoint();
    Object connection = connectionOf(endpoint);
    if (!ch.isActive()
        || m.handoff != null
        || connection == null
        || !reconnects(connection)
        || rejectsWhileDisconnected(connection)
        || isClusterNode(endpoint)) {
      // closed meanwhile, already handing off, no reconnect of its own, an app that has commands
      // rejected while disconnected (every command of the hand-off would fail), or a cluster node
      // connection (its address is the topology's; the cluster API moves slots with SMIGRATING):
      // relaxed only
      return;
    }
    LettuceSession session = LettuceOperations.session(connection);
    MaintenancePolicy p = MaintenancePolicy.get();
    long now = System.nanoTime();
    long hold = Math.max(p.relaxedTimeoutNanos(), TimeUnit.SECONDS.toNanos(Math.max(0, n.timeSeconds())));
    hold = Math.min(hold, Math.max(p.maxWindowNanos(), p.relaxedTimeoutNanos()));
    // timed from the notification (a null endpoint's hand-off starts time/2 after it)
    long noticed = m.window().pendingMove() == n ? m.window().pendingMoveAt() : now;
    Handoff h = new Handoff(n, noticed, m.server, address(n), ch, now + hold);
    Runnable begin =
        () -> {
          PENDING.put(connection, h);
          m.handoff = h; // from now on the endpoint writes no new command to this channel
        };
    if (session != null && !session.beginHandoff(begin)) {
      // a transaction, WATCH or CLIENT TRACKING lives on this connection: it finishes here first
      // (tracking never does: such a connection stays, relaxed, as on Jedis)
      if (now - giveUp < 0) {
        ch.eventLoop()
            .schedule(() -> start(handler, m, n, giveUp), TRANSACTION_RECHECK_MILLIS, TimeUnit.MILLISECONDS);
      }
      return;
    }
    if (session == null) {
      begin.run();
    }
    // after the writes already queued on the event loop (they join the stack first)
    ch.eventLoop().execute(() -> closeIfDrained(ch, handler));
    // bounded: replies that never come do not keep the old channel forever
    closeWhenSettled(ch, handler, hold);
  }

  /**
   * After {@code hold}: closes the channel once every command left on it is done (timed out,
   * cancelled), so Lettuce resends none of them; checks again after another hold otherwise (a
   * command with a longer timeout of its own, a blocking one).
   */
  private static void closeWhenSettled(Channel ch, CommandHandler handler, long hold) {
    ch.eventLoop()
        .schedule(
            () -> {
              if (!ch.isActive()) {
                return;
              }
              for (RedisCommand<?, ?, ?> c : handler.getStack()) {
                if (!c.isDone()) {
                  closeWhenSettled(ch, handler, hold);
                  return;
                }
              }
              close(ch);
            },
            hold,
            TimeUnit.NANOSECONDS);
  }

  /** DefaultEndpoint.isConnected exit: a channel handing off takes no new commands. */
  public static boolean connected(Object channel) {
    LettuceMaintenance m = LettuceMaintenance.peek(channel);
    return m == null || m.handoff == null;
  }

  /** CommandHandler.channelRead exit: a draining channel whose last reply came closes now. */
  public static void read(Object handler, Object ctx) {
    if (!(ctx instanceof io.netty.channel.ChannelHandlerContext) || !(handler instanceof CommandHandler)) {
      return;
    }
    Channel ch = ((io.netty.channel.ChannelHandlerContext) ctx).channel();
    LettuceMaintenance m = LettuceMaintenance.peek(ch);
    if (m != null && m.handoff != null) {
      closeIfDrained(ch, (CommandHandler) handler);
    }
  }

  private static void closeIfDrained(Channel ch, CommandHandler handler) {
    if (ch.isActive() && handler.getStack().isEmpty()) {
      close(ch);
    }
  }

  private static void close(Channel ch) {
    if (ch.isOpen()) {
      ch.close();
    }
  }

  /**
   * ReconnectionHandler.reconnect0 enter: the address to connect to, the hand-off's target while
   * it holds. A failed connect to the target is the hand-off's failure.
   */
  public static SocketAddress reconnectAddress(Object connection, SocketAddress remote, Object result) {
    if (LettuceMaintenance.NATIVE || connection == null) {
      return remote;
    }
    Handoff h = PENDING.get(connection);
    if (h == null) {
      return remote;
    }
    if (System.nanoTime() - h.untilNanos >= 0) {
      PENDING.remove(connection, h);
      return remote;
    }
    if (!h.reported && result instanceof CompletableFuture) {
      ((CompletableFuture<?>) result)
          .whenComplete(
              (ch, failed) -> {
                if (failed != null && !h.reported) {
                  h.reported = true;
                  PENDING.remove(connection, h); // the next attempt goes to the original address
                  ServerState to = h.target == null ? h.from : LettuceMaintenance.server(h.target);
                  LettuceMaintenance.telemetry()
                      .handoff(h.from, to, TelemetryNames.OUTCOME_FAILURE, System.nanoTime() - h.startNanos);
                }
              });
    }
    return h.target == null ? remote : h.target; // null endpoint: the same address, resolved again
  }

  /** DefaultEndpoint.notifyChannelActive exit: a new channel after a hand-off completes it. */
  public static void activated(Object connection, Object channel) {
    if (LettuceMaintenance.NATIVE || connection == null || !(channel instanceof Channel)) {
      return;
    }
    Handoff h = PENDING.get(connection);
    if (h == null || h.reported || h.oldChannel == channel) {
      return;
    }
    h.reported = true;
    Channel ch = (Channel) channel;
    if (h.target == null) {
      PENDING.remove(connection, h); // nothing to redirect later reconnects to
    }
    LettuceMaintenance.telemetry()
        .handoff(h.from, LettuceMaintenance.server(ch.remoteAddress()), TelemetryNames.OUTCOME_SUCCESS,
            System.nanoTime() - h.startNanos);
  }

  private static InetSocketAddress address(MaintenanceNotice n) {
    if (n.host() == null) {
      return null;
    }
    return MaintenancePolicy.isIpLiteral(n.host())
        ? new InetSocketAddress(n.host(), n.port()) // a literal: no lookup on the event loop
        : InetSocketAddress.createUnresolved(n.host(), n.port()); // Netty's resolver, at connect
  }

  /** The connection (RedisChannelHandler) an endpoint writes for, as recorded at its activation. */
  private static Object connectionOf(Object endpoint) {
    if (!(endpoint instanceof StateHolder)) {
      return null;
    }
    Object s = ((StateHolder) endpoint).__rraState();
    return s instanceof LettuceEndpoints.State ? ((LettuceEndpoints.State) s).connection : null;
  }

  private static boolean isClusterNode(Object endpoint) {
    for (Class<?> c = endpoint.getClass(); c != null; c = c.getSuperclass()) {
      if (c.getName().equals("io.lettuce.core.cluster.ClusterNodeEndpoint")) {
        return true;
      }
    }
    return false;
  }

  /** DisconnectedBehavior.REJECT_COMMANDS: Lettuce fails what is written while disconnected. */
  private static boolean rejectsWhileDisconnected(Object connection) {
    io.lettuce.core.ClientOptions o = ((StatefulConnection<?, ?>) connection).getOptions();
    return o != null
        && o.getDisconnectedBehavior() == io.lettuce.core.ClientOptions.DisconnectedBehavior.REJECT_COMMANDS;
  }

  private static boolean reconnects(Object connection) {
    return connection instanceof StatefulConnection
        && ((StatefulConnection<?, ?>) connection).getOptions() != null
        && ((StatefulConnection<?, ?>) connection).getOptions().isAutoReconnect();
  }
}
