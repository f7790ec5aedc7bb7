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
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.event.connection.ConnectionDeactivatedEvent;
import io.lettuce.core.event.connection.ReconnectAttemptEvent;
import io.lettuce.core.event.connection.ReconnectFailedEvent;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Lettuce's connection and cluster events as the agent's connection event log records, read on
 * the thread that publishes them (DefaultEventBus.publish): Lettuce hands events to its
 * subscribers asynchronously and drops them when one lags, so a subscriber would lose some
 * under load; here every one is seen. Injected next to Lettuce.
 */
public final class LettuceConnectionEvents {
  private LettuceConnectionEvents() {}

  /** DefaultEventBus.publish enter. */
  public static void published(Object event) {
    if (event instanceof ConnectionActivatedEvent) {
      ServerState s = server(((ConnectionActivatedEvent) event).remoteAddress());
      if (s != null) {
        log().connected(s);
      }
    } else if (event instanceof ConnectionDeactivatedEvent) {
      ServerState s = server(((ConnectionDeactivatedEvent) event).remoteAddress());
      if (s != null) {
        log().disconnected(s);
      }
    } else if (event instanceof ReconnectAttemptEvent) {
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
