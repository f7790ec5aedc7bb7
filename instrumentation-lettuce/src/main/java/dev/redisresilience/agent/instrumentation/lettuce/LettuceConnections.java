package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.engine.OutageTracker;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.Endpoint;
import dev.redisresilience.agent.telemetry.ResilienceTelemetry;
import dev.redisresilience.agent.telemetry.Telemetry;
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.event.connection.ReconnectFailedEvent;
import io.lettuce.core.protocol.RedisCommand;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Collection;

/**
 * Lettuce connections as the agent sees them: which server a command is written to (endpoint
 * for telemetry, server state for the retry budget and outages), and the client's connection
 * events, read as they are published (Lettuce's own EventBus subscribers may miss them under
 * load). Injected next to Lettuce.
 */
public final class LettuceConnections {
  static final String CLIENT = "lettuce";

  private LettuceConnections() {}

  /** CommandHandler.write enter: the command (or batch) goes to this channel's server now. */
  public static void write(Object handler, Object ctx, Object msg) {
    if (msg instanceof RedisCommand) {
      written(handler, ctx, (RedisCommand<?, ?, ?>) msg);
    } else if (msg instanceof Collection) {
      for (Object o : (Collection<?>) msg) {
        if (o instanceof RedisCommand) {
          written(handler, ctx, (RedisCommand<?, ?, ?>) o);
        }
      }
    }
  }

  /** One attempt of the command's call: on this channel's server. */
  private static void written(Object handler, Object ctx, RedisCommand<?, ?, ?> cmd) {
    LettuceCall call = LettuceOperations.callOf(cmd);
    if (call == null || cmd.isDone()) {
      return;
    }
    Channel ch = ((ChannelHandlerContext) ctx).channel();
    call.lastChannel = ch;
    LettuceHandlerState st = state(handler, ch.remoteAddress(), call.database);
    if (st != null) {
      call.op.bind(st.endpoint);
      call.lastServer = st.server;
      if (call.session != null) {
        call.session.lastServer = st.server;
      }
    }
    call.op.attempt();
  }

  private static LettuceHandlerState state(Object handler, SocketAddress address, long db) {
    if (!(address instanceof InetSocketAddress) || !(handler instanceof StateHolder)) {
      return null;
    }
    StateHolder h = (StateHolder) handler;
    LettuceHandlerState st = (LettuceHandlerState) h.__rraState();
    if (st == null) {
      st = new LettuceHandlerState();
      h.__rraSetState(st);
    }
    if (st.endpoint != null && st.database == db && address.equals(st.address)) {
      return st;
    }
    InetSocketAddress a = (InetSocketAddress) address;
    String ip = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    Endpoint e = Telemetry.lettuce().endpoint(a.getHostString(), a.getPort(), ip, a.getPort(), db);
    LettuceHandlerState fresh = new LettuceHandlerState();
    fresh.address = address;
    fresh.database = db;
    fresh.endpoint = e;
    fresh.server = server(a);
    h.__rraSetState(fresh); // replaced whole: the event loop writes, other threads may read
    return fresh;
  }

  static ServerState server(InetSocketAddress a) {
    return ServerRegistry.server(CLIENT, a.getHostString(), a.getPort());
  }

  private static volatile OutageTracker outages;

  /** The outage tracker of the telemetry installed now (one per installation). */
  static OutageTracker outages() {
    ResilienceTelemetry t = Telemetry.lettuce().resilience();
    OutageTracker o = outages;
    if (o == null || !o.reportsTo(t)) {
      o = new OutageTracker(t);
      outages = o;
    }
    return o;
  }

  /**
   * DefaultEventBus.publish enter, on the publishing thread: a reconnect that failed is a failed
   * connect (starts an outage, or is a failed reconnect during one); an activated connection (its
   * handshake done) ends an outage.
   */
  public static void published(Object event) {
    if (event instanceof ReconnectFailedEvent) {
      ReconnectFailedEvent e = (ReconnectFailedEvent) event;
      SocketAddress remote = e.remoteAddress();
      if (remote instanceof InetSocketAddress) {
        Throwable cause = e.getCause();
        Failure f =
            LettuceErrors.isTimeout(cause) ? Failure.connectTimedOut(cause) : Failure.connectFailed(cause);
        ServerState s = server((InetSocketAddress) remote);
        if (f.kind() == Failure.Kind.TIMEOUT) {
          Telemetry.lettuce().resilience().connectTimedOut(s);
        }
        outages().connectFailed(s, f);
      }
    } else if (event instanceof ConnectionActivatedEvent) {
      SocketAddress remote = ((ConnectionActivatedEvent) event).remoteAddress();
      if (remote instanceof InetSocketAddress) {
        outages().connected(server((InetSocketAddress) remote));
      }
    }
  }
}
