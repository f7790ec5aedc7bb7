package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.policy.Policies;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.ResilienceTelemetry;
import dev.redisresilience.agent.telemetry.Telemetry;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.protocol.DefaultEndpoint;
import io.lettuce.core.protocol.RedisCommand;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.ObjLongConsumer;

/**
 * offline-queue.max-size for Lettuce, enforced where Lettuce buffers the commands written while a
 * connection is down (DefaultEndpoint's disconnectedBuffer): a command that would take the queue
 * past the bound fails at once, classified as a connection error that was not sent, as in reject
 * mode. Lettuce's own requestQueueSize is not used: it also bounds the commands in flight on a
 * healthy connection. Also the source of {@code redis.client.connection.offline_queue.size}.
 * Injected next to Lettuce.
 */
final class LettuceOfflineQueue {
  private LettuceOfflineQueue() {}

  /**
   * Called for a write on an endpoint without an active channel: true (and the commands failed)
   * when Lettuce would buffer them past the bound.
   */
  static boolean rejects(Object endpoint, Object offlineQueue, boolean autoFlush, Object commands) {
    Policies p = Policies.get();
    int max = p.offlineQueueMaxSize();
    if (max <= 0 || p.offlineQueueReject() || !autoFlush || !(offlineQueue instanceof Collection)) {
      return false; // no bound, Lettuce rejects itself, or the commands go to the manual-flush buffer
    }
    if (!(endpoint instanceof DefaultEndpoint) || ((DefaultEndpoint) endpoint).isClosed()) {
      return false; // Lettuce fails them ("Connection is closed")
    }
    int n = commands instanceof Collection ? ((Collection<?>) commands).size() : 1;
    // checked, not locked: writers racing on one disconnected connection may each pass
    if (((Collection<?>) offlineQueue).size() + n <= max) {
      return false;
    }
    OfflineQueueFullException e = new OfflineQueueFullException(max);
    if (commands instanceof RedisCommand) {
      ((RedisCommand<?, ?, ?>) commands).completeExceptionally(e);
    } else if (commands instanceof Collection) {
      for (Object c : (Collection<?>) commands) {
        if (c instanceof RedisCommand) {
          ((RedisCommand<?, ?, ?>) c).completeExceptionally(e);
        }
      }
    } else {
      return false;
    }
    return true;
  }

  private static final ResilienceTelemetry.OfflineQueues SIZES = LettuceOfflineQueue::sizes;

  /** Makes the installed telemetry read the queue sizes from here (on each connect; cheap). */
  static void observe() {
    ResilienceTelemetry t = Telemetry.lettuce().resilience();
    if (!t.observesOfflineQueues(SIZES)) {
      t.offlineQueues(SIZES);
    }
  }

  /** Per server: the commands queued on its disconnected connections (0 when all are up). */
  private static void sizes(ObjLongConsumer<ServerState> out) {
    Map<ServerState, long[]> perServer = new IdentityHashMap<>();
    for (LettuceEndpoints.State st : LettuceEndpoints.live()) {
      ServerState s = st.server;
      if (s != null) {
        long n = st.connected() ? 0 : st.offlineQueue.size();
        perServer.computeIfAbsent(s, k -> new long[1])[0] += n;
      }
    }
    perServer.forEach((s, n) -> out.accept(s, n[0]));
  }

  /** A command not queued because the offline queue was full. */
  static final class OfflineQueueFullException extends RedisConnectionException {
    private static final long serialVersionUID = 1L;

    OfflineQueueFullException(int max) {
      super(
          "Offline queue full: "
              + max
              + " commands already wait for the reconnect (offline-queue.max-size); command not"
              + " sent (redis-resilience-agent)");
    }
  }
}
