package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.ClientTelemetry;
import dev.redisresilience.agent.telemetry.Telemetry;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.RedisServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.Jedis;

/**
 * Exact bounds of the agent's per-server and per-endpoint registries under endpoint churn, with
 * real connections through 16 loopback aliases of one redis-server (its bind limit) held open
 * meanwhile: the churn may evict them from the recent sets, but never splits the state that live
 * connections share.
 */
class EndpointRegistryBoundsTest {
  static final int ALIASES = 16;
  static RedisServer server;

  @BeforeAll
  static void startRedis() {
    StringBuilder bind = new StringBuilder("127.0.0.1");
    for (int i = 2; i <= ALIASES; i++) {
      bind.append(" 127.0.0.").append(i);
    }
    server = RedisServer.start("--bind", bind.toString());
  }

  @AfterAll
  static void stopRedis() {
    server.close();
  }

  static String alias(int i) {
    return "127.0.0." + (i + 1);
  }

  static JedisConnState state(Jedis jedis) {
    return (JedisConnState) ((StateHolder) jedis.getConnection()).__rraState();
  }

  /** Collects until {@code size} is at most {@code target} (bounded: 100 rounds). */
  static int collectUntil(IntSupplier size, int target) {
    for (int i = 0; i < 100 && size.getAsInt() > target; i++) {
      EndpointChurn.retainedHeap();
    }
    return size.getAsInt();
  }

  @Test
  void churnKeepsRegistriesBoundedAndLiveConnectionsShareOneState() {
    ClientTelemetry jedisTelemetry = Telemetry.jedis();
    int serversBefore = ServerRegistry.size();
    int endpointsBefore = jedisTelemetry.endpointCount();
    TestTelemetry.reset();
    List<Jedis> open = new ArrayList<>();
    try {
      Set<ServerState> servers = new HashSet<>();
      for (int i = 0; i < ALIASES; i++) {
        Jedis a = new Jedis(alias(i), server.port());
        Jedis b = new Jedis(alias(i), server.port());
        open.add(a);
        open.add(b);
        assertThat(a.ping()).isEqualTo("PONG");
        assertThat(b.ping()).isEqualTo("PONG");
        // two connections to one server: one budget, one outage state, one endpoint
        assertThat(state(a).serverState()).isSameAs(state(b).serverState());
        assertThat(state(a).endpoint()).isSameAs(state(b).endpoint());
        servers.add(state(a).serverState());
      }
      assertThat(servers).hasSize(ALIASES);
      List<String> addresses = new ArrayList<>();
      for (SpanData s : TestTelemetry.spans()) {
        addresses.add(s.getAttributes().get(AttributeKey.stringKey("server.address")));
      }
      assertThat(new HashSet<>(addresses)).hasSize(ALIASES).contains(alias(0), alias(ALIASES - 1));

      EndpointChurn.churn(); // 10,000 other names: the aliases fall out of the recent sets

      assertThat(ServerRegistry.recentSize()).isEqualTo(ServerRegistry.RECENT);
      assertThat(jedisTelemetry.recentEndpointCount()).isEqualTo(ClientTelemetry.RECENT_ENDPOINTS);
      // the recent ones, the 16 the open connections hold, and at most what existed before
      assertThat(collectUntil(ServerRegistry::size, ServerRegistry.RECENT + ALIASES + serversBefore))
          .isLessThanOrEqualTo(ServerRegistry.RECENT + ALIASES + serversBefore);
      assertThat(
              collectUntil(
                  jedisTelemetry::endpointCount,
                  ClientTelemetry.RECENT_ENDPOINTS + ALIASES + endpointsBefore))
          .isLessThanOrEqualTo(ClientTelemetry.RECENT_ENDPOINTS + ALIASES + endpointsBefore);
      // evicted from the recent sets, still the one instance a new connection gets
      for (Jedis j : open) {
        JedisConnState s = state(j);
        JedisConnState fresh = EndpointChurn.connect(s.serverState().address(), server.port());
        assertThat(fresh.serverState()).isSameAs(s.serverState());
        assertThat(fresh.endpoint()).isSameAs(s.endpoint());
      }
    } finally {
      open.forEach(Jedis::close);
    }
  }
}
