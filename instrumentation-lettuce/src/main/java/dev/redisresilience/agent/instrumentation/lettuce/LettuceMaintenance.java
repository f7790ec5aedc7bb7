package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.maintenance.ConnectionMaintenance;
import dev.redisresilience.agent.maintenance.MaintenancePolicy;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.MaintenanceTelemetry;
import dev.redisresilience.agent.telemetry.Telemetry;
import io.netty.channel.Channel;
import io.netty.util.Attribute;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * The Smart Client Handoff state of one Lettuce 6.x channel (one connection; a reconnect is a new
 * channel, so it starts without any): whether it opted in, its relaxed-timeout window and the
 * MOVING hand-off under way. Kept in a Netty channel attribute, so it lives exactly as long as the
 * channel. Only on Lettuce 6.x: 7.x handles maintenance notifications itself (its
 * MaintNotificationsConfig), and the agent then leaves them to it. Injected next to Lettuce.
 */
public final class LettuceMaintenance {
  /** Lettuce 7.x has its own maintenance handling: everything here stays off then. */
  static final boolean NATIVE = hasClass("io.lettuce.core.MaintNotificationsConfig");

  /** Per loader of this helper: another Lettuce copy (another loader) keeps its own key. */
  private static final AttributeKey<Object> KEY =
      AttributeKey.valueOf("redis-resilience.maintenance." + System.identityHashCode(LettuceMaintenance.class));

  final Channel channel;
  /** The server the channel is connected to (null: no inet address). */
  final ServerState server;
  /** The server accepted CLIENT MAINT_NOTIFICATIONS ON on this channel. */
  volatile boolean optedIn;
  /** Created at the first notification (relaxable from then on). */
  volatile ConnectionMaintenance window;
  /** The MOVING hand-off this channel is draining for, or null. */
  volatile LettuceHandoffs.Handoff handoff;

  private LettuceMaintenance(Channel channel, ServerState server) {
    this.channel = channel;
    this.server = server;
  }

  /** True when the agent handles maintenance notifications of this Lettuce (6.x, not disabled). */
  static boolean active() {
    return !NATIVE && MaintenancePolicy.get().enabled();
  }

  static MaintenanceTelemetry telemetry() {
    return Telemetry.lettuce().resilience().maintenance();
  }

  /** The channel's state, created on first use. */
  static LettuceMaintenance of(Channel channel) {
    Attribute<Object> a = channel.attr(KEY);
    Object o = a.get();
    if (o instanceof LettuceMaintenance) {
      return (LettuceMaintenance) o;
    }
    LettuceMaintenance m = new LettuceMaintenance(channel, server(channel.remoteAddress()));
    Object raced = a.setIfAbsent(m);
    return raced instanceof LettuceMaintenance ? (LettuceMaintenance) raced : m;
  }

  /** The channel's state, or null when it has none (no opt-in, no notification). */
  static LettuceMaintenance peek(Object channel) {
    if (!(channel instanceof Channel)) {
      return null;
    }
    Channel ch = (Channel) channel;
    if (!ch.hasAttr(KEY)) {
      return null;
    }
    Object o = ch.attr(KEY).get();
    return o instanceof LettuceMaintenance ? (LettuceMaintenance) o : null;
  }

  /** The window of this channel, created (and counted as relaxable) on first use. */
  ConnectionMaintenance window() {
    ConnectionMaintenance w = window;
    if (w == null) {
      w = new ConnectionMaintenance(server);
      window = w;
      telemetry().relaxable(w);
    }
    return w;
  }

  /** CommandHandler.channelInactive: the channel's window ends with it. */
  public static void closed(Object ctx) {
    if (NATIVE || !(ctx instanceof io.netty.channel.ChannelHandlerContext)) {
      return;
    }
    LettuceMaintenance m = peek(((io.netty.channel.ChannelHandlerContext) ctx).channel());
    if (m != null) {
      ConnectionMaintenance w = m.window;
      if (w != null) {
        w.closed();
      }
    }
  }

  static ServerState server(SocketAddress a) {
    return a instanceof InetSocketAddress ? LettuceConnections.server((InetSocketAddress) a) : null;
  }

  private static boolean hasClass(String name) {
    try {
      Class.forName(name, false, LettuceMaintenance.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}
