package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.maintenance.MaintenanceNotice;
import dev.redisresilience.agent.maintenance.MaintenancePolicy;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.policy.ServerState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.HostAndPort;

/** The registry of moved endpoints on its own: who is redirected where, for how long, how many. */
class JedisMovesUnitTest {
  static final HostAndPort A = new HostAndPort("10.0.0.1", 6379);
  static final HostAndPort B = new HostAndPort("10.0.0.2", 6380);
  final MaintenancePolicy policy = MaintenancePolicy.get();

  @AfterEach
  void clear() {
    JedisMoves.clear();
  }

  static ServerState server(HostAndPort hp) {
    return ServerRegistry.server("jedis", hp.getHost(), hp.getPort());
  }

  static MaintenanceNotice moving(long seq, long time, HostAndPort to) {
    return MaintenanceNotice.of(
        MaintenanceNotice.Type.MOVING, seq, time, to == null ? null : to.getHost(), to == null ? 0 : to.getPort(), null);
  }

  static JedisConnState connection(HostAndPort server, long connectedNanos) {
    JedisConnState s = new JedisConnState();
    s.server(server.getHost(), server.getPort());
    s.connectedNanos = connectedNanos;
    return s;
  }

  @Test
  void nothingMovedLeavesEverySocketWhereItWasGoing() {
    HostAndPort mapped = new HostAndPort("mapped", 1);
    assertThat(JedisMoves.pending()).isFalse();
    assertThat(JedisMoves.socketAddress(A, mapped)).isSameAs(mapped);
    assertThat(JedisMoves.pendingFor(connection(A, 1))).isNull();
  }

  @Test
  void socketsForTheMovedEndpointGoToTheNewOneAndOlderConnectionsHandOff() {
    long before = System.nanoTime();
    JedisMoves.moving(server(A), moving(1, 15, B), policy, System.nanoTime());
    assertThat(JedisMoves.socketAddress(A, A)).isEqualTo(B);
    assertThat(JedisMoves.socketAddress(B, B)).isEqualTo(B);
    assertThat(JedisMoves.pendingFor(connection(A, before))).isNotNull();
    assertThat(JedisMoves.pendingFor(connection(A, System.nanoTime()))).isNull(); // made after it
    assertThat(JedisMoves.pendingFor(connection(B, before))).isNull();
    assertThat(JedisMoves.pendingFor(connection(A, 0))).isNull(); // never connected: its connect goes to B
  }

  @Test
  void theSameNotificationFromEveryConnectionKeepsTheFirstTime() {
    long first = System.nanoTime();
    JedisMoves.moving(server(A), moving(1, 15, B), policy, first);
    long between = System.nanoTime();
    JedisMoves.moving(server(A), moving(1, 15, B), policy, System.nanoTime());
    assertThat(JedisMoves.pendingFor(connection(A, between))).isNull();
    JedisMoves.moving(server(A), moving(2, 15, B), policy, System.nanoTime()); // a new one
    assertThat(JedisMoves.pendingFor(connection(A, between))).isNotNull();
  }

  @Test
  void aMoveBackDropsTheMoveThereSoNothingLoops() {
    JedisMoves.moving(server(A), moving(1, 15, B), policy, System.nanoTime());
    JedisMoves.moving(server(B), moving(2, 15, A), policy, System.nanoTime());
    assertThat(JedisMoves.socketAddress(A, A)).isEqualTo(A);
    assertThat(JedisMoves.socketAddress(B, B)).isEqualTo(A);
  }

  @Test
  void aChainedMoveSendsWhatWentToTheMiddleEndpointOnward() {
    HostAndPort c = new HostAndPort("10.0.0.3", 6381);
    JedisMoves.moving(server(A), moving(1, 15, B), policy, System.nanoTime());
    JedisMoves.moving(server(B), moving(2, 15, c), policy, System.nanoTime());
    // a pool configured for A refills against C, not against B (which is leaving too)
    assertThat(JedisMoves.socketAddress(A, A)).isEqualTo(c);
    assertThat(JedisMoves.socketAddress(B, B)).isEqualTo(c);
  }

  @Test
  void aNullEndpointReconnectsInPlaceOnlyAfterHalfTheTime() {
    long before = System.nanoTime();
    JedisMoves.moving(server(A), moving(1, 20, null), policy, System.nanoTime());
    assertThat(JedisMoves.socketAddress(A, A)).isEqualTo(A);
    assertThat(JedisMoves.pendingFor(connection(A, before))).isNull(); // 10 s to go
    JedisMoves.moving(server(A), moving(2, 0, null), policy, System.nanoTime()); // no time: now
    assertThat(JedisMoves.pendingFor(connection(A, before))).isNotNull();
  }

  @Test
  void aHandOffGivenUpSendsSocketsToTheOldEndpointAgain() {
    long before = System.nanoTime();
    JedisMoves.moving(server(A), moving(1, 15, B), policy, System.nanoTime());
    JedisMoves.giveUp(JedisMoves.pendingFor(connection(A, before)));
    assertThat(JedisMoves.socketAddress(A, A)).isEqualTo(A);
    assertThat(JedisMoves.pending()).isFalse();
  }

  @Test
  void atMostMaxEndpointsAreKeptTheOldestDropped() {
    for (int i = 0; i < JedisMoves.MAX + 10; i++) {
      JedisMoves.moving(server(new HostAndPort("h" + i, 1)), moving(1, 15, B), policy, System.nanoTime());
    }
    assertThat(JedisMoves.socketAddress(new HostAndPort("h0", 1), A)).isEqualTo(A);
    assertThat(JedisMoves.socketAddress(new HostAndPort("h" + (JedisMoves.MAX + 9), 1), A)).isEqualTo(B);
    assertThat(JedisMoves.socketAddress(new HostAndPort("h10", 1), A)).isEqualTo(B);
  }
}
