package dev.redisresilience.agent.maintenance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.maintenance.MaintenanceNotice.Type;
import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.policy.ServerState;
import org.junit.jupiter.api.Test;

/** Relaxed timeouts of one connection through a maintenance window, with an explicit clock. */
class ConnectionMaintenanceTest {
  static final long S = 1_000_000_000L;
  final MaintenancePolicy policy = new MaintenancePolicy(MaintenancePolicy.Mode.AUTO, 10 * S, 120 * S, "auto");
  final ServerState server = ServerRegistry.server("maintenance-test", "10.9.9.9", 6379);
  final ConnectionMaintenance c = new ConnectionMaintenance(server);

  static MaintenanceNotice notice(Type t) {
    return MaintenanceNotice.of(t, 1, t.ends() ? -1 : 15, t == Type.MOVING ? "10.0.0.2" : null, 6380, null);
  }

  @Test
  void aConnectionThatSawNothingKeepsItsTimeout() {
    assertThat(c.timeoutNanos(S, policy, 5 * S)).isEqualTo(S);
    assertThat(c.relaxed(5 * S)).isFalse();
  }

  @Test
  void migratingRelaxesUntilMigratedPlusGrace() {
    long t0 = 1_000 * S;
    assertThat(c.apply(notice(Type.MIGRATING), policy, t0)).isTrue();
    assertThat(c.timeoutNanos(S, policy, t0 + S)).isEqualTo(10 * S);
    assertThat(c.inWindow(t0 + 60 * S)).isTrue();
    assertThat(server.inMaintenance(t0 + 60 * S)).isTrue();

    long t1 = t0 + 60 * S;
    assertThat(c.apply(notice(Type.MIGRATED), policy, t1)).isFalse(); // still relaxed: no new entry
    assertThat(c.inWindow(t1)).isFalse();
    assertThat(c.timeoutNanos(S, policy, t1 + 9 * S)).isEqualTo(10 * S); // grace
    assertThat(c.timeoutNanos(S, policy, t1 + 11 * S)).isEqualTo(S);
  }

  @Test
  void aWindowWithoutItsEndIsBoundedByTheMaximum() {
    long t0 = 5_000 * S;
    c.apply(notice(Type.FAILING_OVER), policy, t0);
    assertThat(c.relaxed(t0 + 119 * S)).isTrue();
    assertThat(c.relaxed(t0 + 121 * S)).isFalse();
    assertThat(c.timeoutNanos(S, policy, t0 + 121 * S)).isEqualTo(S);
  }

  @Test
  void relaxingNeverShortensALongerTimeoutNorMakesAnInfiniteOneFinite() {
    c.apply(notice(Type.MIGRATING), policy, 0);
    assertThat(c.timeoutNanos(30 * S, policy, S)).isEqualTo(30 * S);
    assertThat(c.timeoutNanos(0, policy, S)).isEqualTo(0);
  }

  @Test
  void anEndWithoutAStartRelaxesNothing() {
    assertThat(c.apply(notice(Type.FAILED_OVER), policy, 7 * S)).isFalse();
    assertThat(c.relaxed(7 * S)).isFalse();
  }

  @Test
  void movingRelaxesAndWaitsForItsHandoff() {
    MaintenanceNotice m = notice(Type.MOVING);
    assertThat(c.apply(m, policy, 100 * S)).isTrue();
    assertThat(c.pendingMove()).isSameAs(m);
    assertThat(c.relaxed(100 * S + 14 * S)).isTrue(); // time_s 15 > grace 10
    assertThat(c.relaxed(100 * S + 16 * S)).isFalse();
    c.moveHandled(m);
    assertThat(c.pendingMove()).isNull();
  }

  @Test
  void aClosedConnectionIsNotRelaxed() {
    c.apply(notice(Type.MIGRATING), policy, 0);
    c.closed();
    assertThat(c.relaxed(S)).isFalse();
    assertThat(c.timeoutNanos(S, policy, S)).isEqualTo(S);
  }
}
