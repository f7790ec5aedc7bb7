package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.bootstrap.StateHolder;
import io.lettuce.core.protocol.DefaultEndpoint;
import io.netty.channel.Channel;
import java.lang.ref.WeakReference;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lettuce's DefaultEndpoints (one per connection, cluster node connections included) that have
 * been connected at least once: their current channel, server, offline queue and whether anything
 * was written recently, for the offline-queue bound and gauge ({@link LettuceOfflineQueue}) and the
 * idle health checks ({@link LettuceHealthChecks}). Injected next to Lettuce.
 */
public final class LettuceEndpoints {
  private LettuceEndpoints() {}

  /** One endpoint's state, kept in its state field (so it lives exactly as long as it). */
  static final class State {
    final DefaultEndpoint endpoint;
    /** Lettuce's disconnectedBuffer: the commands written while no channel was up. */
    final Collection<?> offlineQueue;
    final WeakReference<State> ref = new WeakReference<>(this);
    volatile Channel channel;
    /** The connection (StatefulRedisConnectionImpl ...) the endpoint writes for. */
    volatile Object connection;
    volatile dev.redisresilience.agent.policy.ServerState server;
    volatile String address = "?";
    /** Bumped on every write (a plain field: the health-check sweep only asks "did it change"). */
    int writes;
    /** The sweep's last look at {@link #writes}, and when it last saw it change (or a PING). */
    int seenWrites;
    volatile long activeNanos = System.nanoTime();
    /** A health-check PING is under way. */
    volatile boolean checking;
    /** The last health check failed (event loop only). */
    boolean lastCheckFailed;

    State(DefaultEndpoint endpoint, Collection<?> offlineQueue) {
      this.endpoint = endpoint;
      this.offlineQueue = offlineQueue;
    }

    boolean connected() {
      Channel ch = channel;
      return ch != null && ch.isActive();
    }
  }

  /** Weak: an endpoint the application dropped without closing it is not kept alive here. */
  private static final Set<WeakReference<State>> LIVE = ConcurrentHashMap.newKeySet();

  /**
   * DefaultEndpoint.write enter (every command of every API, cluster nodes included): notes the
   * write for the idle check, and returns true when the command must fail instead of joining a
   * full offline queue (it has been failed; Lettuce's write is skipped).
   */
  public static boolean write(
      Object endpoint, Object channel, Object offlineQueue, boolean autoFlush, Object commands) {
    if (endpoint instanceof StateHolder) {
      Object s = ((StateHolder) endpoint).__rraState();
      if (s instanceof State) {
        ((State) s).writes++;
      }
    }
    if (channel instanceof Channel && ((Channel) channel).isActive()) {
      return false;
    }
    return LettuceOfflineQueue.rejects(endpoint, offlineQueue, autoFlush, commands);
  }

  /**
   * DefaultEndpoint.notifyChannelActive exit (each connect and reconnect): the endpoint's
   * channel, server and connection now; registers it the first time.
   */
  public static void activated(Object endpoint, Object channel, Object offlineQueue, Object connection) {
    if (!(endpoint instanceof StateHolder)
        || !(endpoint instanceof DefaultEndpoint)
        || !(channel instanceof Channel)
        || !(offlineQueue instanceof Collection)) {
      return;
    }
    StateHolder h = (StateHolder) endpoint;
    State st;
    Object s = h.__rraState();
    if (s instanceof State) {
      st = (State) s;
    } else {
      st = new State((DefaultEndpoint) endpoint, (Collection<?>) offlineQueue);
      h.__rraSetState(st);
      LIVE.add(st.ref);
    }
    Channel ch = (Channel) channel;
    SocketAddress remote = ch.remoteAddress();
    if (remote instanceof InetSocketAddress) {
      InetSocketAddress a = (InetSocketAddress) remote;
      dev.redisresilience.agent.policy.ServerState before = st.server;
      st.server = LettuceConnections.server(a);
      st.address = a.getHostString() + ":" + a.getPort();
      LettuceSentinels.reconnected(connection, before, st.server);
    }
    st.connection = connection;
    st.activeNanos = System.nanoTime();
    st.channel = ch;
    LettuceOfflineQueue.observe();
    LettuceHealthChecks.start();
  }

  /** The endpoints not closed yet; forgets closed and collected ones. */
  static List<State> live() {
    List<State> out = new ArrayList<>();
    for (WeakReference<State> r : LIVE) {
      State st = r.get();
      if (st == null || st.endpoint.isClosed()) {
        LIVE.remove(r);
      } else {
        out.add(st);
      }
    }
    return out;
  }
}
