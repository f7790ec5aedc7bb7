package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.core.Failure;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.ConnectionEventLog;
import dev.redisresilience.agent.telemetry.Telemetry;
import io.lettuce.core.cluster.event.AskRedirectionEvent;
import io.lettuce.core.cluster.event.ClusterTopologyChangedEvent;
import io.lettuce.core.cluster.event.RedirectionEventSupport;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.event.connection.ReconnectAttemptEvent;
import io.lettuce.core.event.connection.ReconnectFailedEvent;
import io.lettuce.core.protocol.CommandHandler;
import io.netty.channel.ChannelHandlerContext;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Lettuce's connection and cluster events as the agent's connection event log records, read in
 * Lettuce's own code where they happen (ConnectionEventTrigger for a channel going up or down,
 * DefaultEventBus.publish on the publishing thread for the rest): Lettuce hands events to its
 * subscribers asynchronously and drops them when one lags, so a subscriber would lose some
 * under load; here every one is seen. Injected next to Lettuce.
 */
public final class LettuceConnectionEvents {
  /** ClusterNodeEndpoint.clusterChannelWriter (package-private class and field, 6.1 to 7.x). */
  private static final Field CLUSTER_WRITER = clusterWriterField();

  private LettuceConnectionEvents() {}

  /** DefaultEventBus.publish enter. */
  public static void published(Object event) {
    if (event instanceof ReconnectAttemptEvent) {
      ReconnectAttemptEvent e = (ReconnectAttemptEvent) event;
      ServerState s = server(e.remoteAddress());
      if (s != null) {
        long delay = e.getDelay() == null ? 0 : e.getDelay().toNanos();
        log().reconnectAttempt(s, e.getAttempt(), delay);
      }
    } else if (event instanceof ReconnectFailedEvent) {
      ReconnectFailedEvent e = (ReconnectFailedEvent) event;
      ServerState s = server(e.remoteAddress());
      if (s != null) {
        Throwable cause = e.getCause();
        Failure f =
            LettuceErrors.isTimeout(cause) ? Failure.connectTimedOut(cause) : Failure.connectFailed(cause);
        log().connectFailed(s, f.errorType(), e.getAttempt());
      }
    } else if (event instanceof RedirectionEventSupport) {
      redirected((RedirectionEventSupport) event);
    } else if (event instanceof ClusterTopologyChangedEvent) {
      topologyChanged((ClusterTopologyChangedEvent) event);
    }
  }

  /**
   * ConnectionEventTrigger.channelActive exit (after it published ConnectionActivatedEvent): the
   * connection is up. Not for the short-lived connections a cluster topology refresh opens to
   * each node, the client's own traffic (three records per node and refresh otherwise).
   */
  public static void channelActive(Object ctx) {
    ServerState s = userConnection(ctx);
    if (s != null) {
      log().connected(s);
    }
  }

  /** ConnectionEventTrigger.channelInactive exit: the connection closed. */
  public static void channelInactive(Object ctx) {
    ServerState s = userConnection(ctx);
    if (s != null) {
      log().disconnected(s);
    }
  }

  /** The server of the channel, or null for a topology refresh connection (or no address). */
  private static ServerState userConnection(Object ctx) {
    if (!(ctx instanceof ChannelHandlerContext)) {
      return null;
    }
    ChannelHandlerContext c = (ChannelHandlerContext) ctx;
    CommandHandler handler = c.pipeline().get(CommandHandler.class);
    if (handler != null && isTopologyRefresh(handler.getEndpoint())) {
      return null;
    }
    return server(c.channel().remoteAddress());
  }

  /** A ClusterNodeEndpoint without a cluster writer: opened by a topology refresh. */
  static boolean isTopologyRefresh(Object endpoint) {
    Field f = CLUSTER_WRITER;
    if (f == null || !f.getDeclaringClass().isInstance(endpoint)) {
      return false;
    }
    try {
      return f.get(endpoint) == null;
    } catch (IllegalAccessException e) {
      return false;
    }
  }

  private static Field clusterWriterField() {
    try {
      Field f =
          Class.forName(
                  "io.lettuce.core.cluster.ClusterNodeEndpoint",
                  false,
                  LettuceConnectionEvents.class.getClassLoader())
              .getDeclaredField("clusterChannelWriter");
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null; // not readable (a module boundary): every connection is reported
    }
  }

  /** MOVED or ASK: "MOVED 3999 127.0.0.1:6381" names the node the command goes to now. */
  private static void redirected(RedirectionEventSupport e) {
    String message = e.getMessage();
    if (message == null) {
      return;
    }
    String target = message.substring(message.lastIndexOf(' ') + 1);
    int colon = target.lastIndexOf(':');
    if (colon <= 0) {
      return;
    }
    int port;
    try {
      port = Integer.parseInt(target.substring(colon + 1));
    } catch (NumberFormatException ex) {
      return;
    }
    ServerState s = ServerRegistry.server(LettuceConnections.CLIENT, target.substring(0, colon), port);
    log().redirect(s, e instanceof AskRedirectionEvent ? "ASK" : "MOVED", e.getSlot());
  }

  private static void topologyChanged(ClusterTopologyChangedEvent e) {
    Set<String> before = ids(e.before());
    Set<String> after = ids(e.after());
    int added = 0;
    for (String id : after) {
      if (!before.contains(id)) {
        added++;
      }
    }
    int removed = 0;
    for (String id : before) {
      if (!after.contains(id)) {
        removed++;
      }
    }
    log().topologyChanged(after.size(), added, removed);
  }

  private static Set<String> ids(List<RedisClusterNode> nodes) {
    Set<String> ids = new HashSet<>();
    if (nodes != null) {
      for (RedisClusterNode n : nodes) {
        ids.add(n.getNodeId() != null ? n.getNodeId() : String.valueOf(n.getUri()));
      }
    }
    return ids;
  }

  private static ServerState server(SocketAddress remote) {
    return remote instanceof InetSocketAddress ? LettuceConnections.server((InetSocketAddress) remote) : null;
  }

  private static ConnectionEventLog log() {
    return Telemetry.lettuce().resilience().connectionEvents();
  }
}
