package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.maintenance.ConnectionMaintenance;
import dev.redisresilience.agent.maintenance.MaintenanceNotice;
import dev.redisresilience.agent.maintenance.MaintenancePolicy;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.MaintenanceTelemetry;
import dev.redisresilience.agent.telemetry.Telemetry;
import dev.redisresilience.agent.telemetry.TelemetryNames;
import io.lettuce.core.api.push.PushMessage;
import io.lettuce.core.protocol.CommandHandler;
import io.lettuce.core.protocol.RedisCommand;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Smart Client Handoffs on Lettuce 7.x, which handles them itself (opt-in in its handshake,
 * MaintenanceAwareConnectionWatchdog acting on the pushes, MaintenanceAwareExpiryWriter relaxing
 * the timeouts) and reports nothing: the agent only observes and reports (handled_by=client). It
 * never opts in, consumes a push, relaxes a timeout or wraps Lettuce's writer (which would hide it
 * from Lettuce's maintenance-aware detection). Every entry point takes JDK or Lettuce 6.x types
 * only, so the class links on any supported Lettuce; only 7.x advice calls it. Injected next to
 * Lettuce.
 */
public final class LettuceNativeMaintenance {
  /** Far enough ahead to mean "until Lettuce ends it" without overflowing nanoTime arithmetic. */
  static final long UNTIL_FURTHER_NOTICE = Long.MAX_VALUE / 4;

  /**
   * Push types Redis sends for other reasons (pub/sub, client-side caching): not maintenance, not
   * unknown. Lettuce gives them to the application's own listeners.
   */
  private static final Set<String> OTHER_PUSHES =
      new HashSet<>(
          Arrays.asList(
              "message", "pmessage", "smessage", "subscribe", "psubscribe", "ssubscribe",
              "unsubscribe", "punsubscribe", "sunsubscribe", "pong", "invalidate",
              "tracking-redir-broken"));

  private LettuceNativeMaintenance() {}

  /**
   * One connection's watchdog: its server-window model and the MOVING awaiting its reconnect. The
   * push and the reconnected channel may be on two event loops: {@link #moving} is written last
   * and read first (volatile), so the fields written before it are seen with it.
   */
  static final class WatchdogState {
    /** The agent's view of the window (marks the server; never registered as relaxed). */
    ConnectionMaintenance window;
    long movingAt;
    ServerState movingFrom;
    /** Where Lettuce will reconnect: the MOVING's endpoint, or the same one for a null endpoint. */
    String movingHost;
    int movingPort;
    /** Lettuce began the re-bind (it drops a MOVING it cannot parse: then no hand-off follows). */
    volatile boolean rebinding;
    volatile MaintenanceNotice moving;
  }

  private static MaintenanceTelemetry telemetry() {
    return Telemetry.lettuce().resilience().maintenance();
  }

  // --- the pushes ------------------------------------------------------------------------------

  /**
   * MaintenanceAwareConnectionWatchdog.onPushMessage enter (event loop, once per push and
   * connection): reports a maintenance push; a malformed one or an unknown type is counted as
   * rejected. Lettuce's own handling follows, untouched.
   */
  public static void pushed(Object watchdog, Object channel, Object message) {
    if (!(message instanceof PushMessage) || !(channel instanceof Channel)) {
      return;
    }
    PushMessage m = (PushMessage) message;
    Channel ch = (Channel) channel;
    ServerState server = server(ch.remoteAddress());
    String type = m.getType();
    if (MaintenanceNotice.Type.of(type) == null) { // checked before the content is decoded
      if (type == null || !OTHER_PUSHES.contains(type.toLowerCase(Locale.ROOT))) {
        telemetry().rejected(server, "unknown_type", "push of type " + clip(type));
      }
      return;
    }
    List<Object> content = m.getContent();
    MaintenanceNotice n;
    try {
      n = MaintenanceNotice.parse(content);
    } catch (MaintenanceNotice.MalformedNoticeException e) {
      telemetry().rejected(server, "malformed", e.getMessage());
      return;
    }
    telemetry().notification(server, n, "client");
    inFlight(ch, n);
    WatchdogState st = state(watchdog);
    if (st == null) {
      return;
    }
    MaintenancePolicy p = MaintenancePolicy.get();
    if (p.enabled() && server != null) {
      // the server's planned window: its failures then do not take from the retry budget
      if (st.window == null || st.window.server() != server) {
        st.window = new ConnectionMaintenance(server);
      }
      st.window.apply(n, p, System.nanoTime());
    }
    if (n.type() == MaintenanceNotice.Type.MOVING) {
      SocketAddress remote = ch.remoteAddress();
      if (n.host() != null) {
        st.movingHost = n.host();
        st.movingPort = n.port();
      } else if (remote instanceof InetSocketAddress) {
        st.movingHost = ((InetSocketAddress) remote).getHostString();
        st.movingPort = ((InetSocketAddress) remote).getPort();
      } else {
        return;
      }
      st.movingFrom = server;
      st.movingAt = System.nanoTime();
      st.rebinding = false;
      st.moving = n;
    }
  }

  /** A span event on each operation in flight on the channel (the push is read on its loop). */
  private static void inFlight(Channel ch, MaintenanceNotice n) {
    CommandHandler h = ch.pipeline().get(CommandHandler.class);
    if (h == null) {
      return;
    }
    for (RedisCommand<?, ?, ?> cmd : h.getStack()) {
      LettuceCall call = LettuceOperations.callOf(cmd);
      if (call != null) {
        call.op.maintenanceNotified(n.type().name(), n.seq());
      }
    }
  }

  // --- the hand-off ----------------------------------------------------------------------------

  /**
   * MaintenanceAwareConnectionWatchdog.rebind enter: Lettuce acts on the MOVING (at once, or
   * time/2 later for a null endpoint); the channel it closes now reconnects where it re-binds.
   */
  public static void rebinding(Object watchdog) {
    WatchdogState st = existingState(watchdog);
    if (st != null && st.moving != null) {
      st.rebinding = true;
    }
  }

  /**
   * MaintenanceAwareConnectionWatchdog.channelActive exit (handshake done, on each connect and
   * reconnect): after a MOVING, the channel Lettuce re-bound to. On the MOVING's endpoint: a
   * successful hand-off; elsewhere (Lettuce fell back to the old one): a failed one. The
   * connection's relaxed timeouts count for the server it is on now.
   */
  public static void channelActive(Object watchdog, Object components, Object ctx) {
    if (!(ctx instanceof ChannelHandlerContext)) {
      return;
    }
    rehome(components, server(((ChannelHandlerContext) ctx).channel().remoteAddress()));
    WatchdogState st = existingState(watchdog);
    if (st == null || st.moving == null || !st.rebinding) {
      return;
    }
    SocketAddress remote = ((ChannelHandlerContext) ctx).channel().remoteAddress();
    if (!(remote instanceof InetSocketAddress)) {
      return;
    }
    long nanos = System.nanoTime() - st.movingAt;
    InetSocketAddress a = (InetSocketAddress) remote;
    boolean onTarget = a.getPort() == st.movingPort && sameHost(a, st.movingHost);
    st.moving = null;
    st.rebinding = false;
    ServerState to = LettuceConnections.server(a);
    telemetry()
        .handoff(
            st.movingFrom,
            onTarget ? to : ServerRegistry.server(LettuceConnections.CLIENT, st.movingHost, st.movingPort),
            onTarget ? TelemetryNames.OUTCOME_SUCCESS : TelemetryNames.OUTCOME_FAILURE,
            nanos);
  }

  private static boolean sameHost(InetSocketAddress a, String host) {
    if (host.equalsIgnoreCase(a.getHostString())) {
      return true;
    }
    return a.getAddress() != null && host.equals(a.getAddress().getHostAddress());
  }

  // --- the sync API's wait ----------------------------------------------------------------------

  /** Lettuce 7.0+, where Lettuce relaxes timeouts itself (MaintNotificationsConfig arrived with it). */
  private static final boolean NATIVE = hasClass("io.lettuce.core.MaintNotificationsConfig");

  /**
   * How long a sync call waits for its command on Lettuce 7.x. Lettuce's expiry writer relaxes a
   * command's timeout during maintenance, but its sync API waits the plain timeout anyway (7.7.0:
   * {@code Futures.awaitOrCancel} with the unrelaxed timeout), so a sync call is cut where the
   * async one is answered. While the command's server is in a maintenance window the wait is
   * stretched by {@code maintenance.relaxed-timeout}: Lettuce's expiry still ends the command at the
   * timeout it gave it (relaxed on a connection it relaxed, plain on any other), so no call waits
   * longer than Lettuce lets its command run. Outside a window, and on 6.x, unchanged.
   */
  public static long syncWaitNanos(Object future, long timeoutNanos) {
    if (!NATIVE || timeoutNanos <= 0 || !(future instanceof RedisCommand)) {
      return timeoutNanos;
    }
    LettuceCall call = LettuceOperations.callOf((RedisCommand<?, ?, ?>) future);
    if (call == null) {
      return timeoutNanos;
    }
    ServerState s = call.lastServer;
    if (s == null && call.session != null) {
      s = call.session.lastServer;
    }
    if (s == null || !s.inMaintenance(System.nanoTime())) {
      return timeoutNanos;
    }
    long r = timeoutNanos + MaintenancePolicy.get().relaxedTimeoutNanos();
    return r < 0 ? Long.MAX_VALUE : r;
  }

  private static boolean hasClass(String name) {
    try {
      Class.forName(name, false, LettuceNativeMaintenance.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  // --- Lettuce's relaxed timeouts ----------------------------------------------------------------

  /**
   * One connection's relaxed timeouts as Lettuce's writer has them, counted for the server the
   * connection is on (a new {@link ConnectionMaintenance} once it moved). Event loop only.
   */
  static final class RelaxedMirror {
    final ConnectionMaintenance connection;
    /** System.nanoTime() until which Lettuce keeps the timeouts relaxed; 0: not relaxed. */
    long until;

    RelaxedMirror(ServerState server) {
      this.connection = new ConnectionMaintenance(server);
    }

    void relaxedUntil(long nanos) {
      until = nanos;
      connection.mirrorRelaxed(nanos);
    }
  }

  /**
   * MaintenanceAwareExpiryWriter.onMigrateStarted / onFailoverStarted / onRebindStarted exit:
   * {@code relaxed} is the writer's own flag now (false when the app disabled relaxing). Lettuce
   * keeps it until the matching end and its grace.
   */
  public static void relaxing(Object writer, Object delegate, boolean relaxed) {
    RelaxedMirror m = mirror(writer, endpointServer(delegate));
    if (m != null) {
      m.relaxedUntil(relaxed ? System.nanoTime() + UNTIL_FURTHER_NOTICE : 0);
    }
  }

  /**
   * MaintenanceAwareExpiryWriter.onMigrateCompleted / onFailoverCompleted / onRebindCompleted
   * exit: Lettuce un-relaxes after {@code grace} (its relaxed timeout) unless a new start comes.
   */
  public static void unrelaxing(Object writer, boolean relaxed, Object grace) {
    RelaxedMirror m = existingMirror(writer);
    if (m == null || !relaxed) {
      return; // never relaxed: nothing to end
    }
    long g = grace instanceof Duration && !((Duration) grace).isNegative() ? ((Duration) grace).toNanos() : 0;
    m.relaxedUntil(g > 0 ? System.nanoTime() + g : 0);
  }

  /** CommandExpiryWriter.close / closeAsync enter: a closed connection is no longer relaxed. */
  public static void writerClosed(Object writer) {
    RelaxedMirror m = existingMirror(writer);
    if (m != null) {
      m.connection.closed();
    }
  }

  /**
   * A connection's channel is up on {@code server} (after a MOVING: the new one): its relaxed
   * timeouts, which Lettuce keeps through the hand-off, count there from now on.
   * {@code components}: the watchdog's MaintenanceAwareComponents (the connection's writer).
   */
  private static void rehome(Object components, ServerState server) {
    if (!(components instanceof Iterable) || server == null) {
      return;
    }
    for (Object writer : (Iterable<?>) components) {
      RelaxedMirror m = existingMirror(writer);
      if (m != null && m.connection.server() != server) {
        long until = m.connection.relaxed(System.nanoTime()) ? m.until : 0;
        mirror(writer, server).relaxedUntil(until);
      }
    }
  }

  /** The writer's mirror for {@code server}; a new one (the old one closed) for another server. */
  private static RelaxedMirror mirror(Object writer, ServerState server) {
    if (!(writer instanceof StateHolder)) {
      return null;
    }
    StateHolder h = (StateHolder) writer;
    Object s = h.__rraState();
    RelaxedMirror m = s instanceof RelaxedMirror ? (RelaxedMirror) s : null;
    if (m != null && m.connection.server() == server) {
      return m;
    }
    RelaxedMirror fresh = new RelaxedMirror(server);
    if (m != null) {
      m.connection.closed();
    }
    h.__rraSetState(fresh);
    telemetry().relaxable(fresh.connection);
    return fresh;
  }

  private static RelaxedMirror existingMirror(Object writer) {
    if (!(writer instanceof StateHolder)) {
      return null;
    }
    Object s = ((StateHolder) writer).__rraState();
    return s instanceof RelaxedMirror ? (RelaxedMirror) s : null;
  }

  /** The server of a DefaultEndpoint as LettuceEndpoints last saw it connected. */
  private static ServerState endpointServer(Object endpoint) {
    if (endpoint instanceof StateHolder) {
      Object s = ((StateHolder) endpoint).__rraState();
      if (s instanceof LettuceEndpoints.State) {
        return ((LettuceEndpoints.State) s).server;
      }
    }
    return null;
  }

  // --- helpers ---------------------------------------------------------------------------------

  private static WatchdogState state(Object watchdog) {
    if (!(watchdog instanceof StateHolder)) {
      return null;
    }
    StateHolder h = (StateHolder) watchdog;
    Object s = h.__rraState();
    if (s instanceof WatchdogState) {
      return (WatchdogState) s;
    }
    WatchdogState st = new WatchdogState();
    h.__rraSetState(st);
    return st;
  }

  private static WatchdogState existingState(Object watchdog) {
    if (!(watchdog instanceof StateHolder)) {
      return null;
    }
    Object s = ((StateHolder) watchdog).__rraState();
    return s instanceof WatchdogState ? (WatchdogState) s : null;
  }

  private static ServerState server(SocketAddress remote) {
    return remote instanceof InetSocketAddress ? LettuceConnections.server((InetSocketAddress) remote) : null;
  }

  private static String clip(String s) {
    if (s == null) {
      return "?";
    }
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }
}
