package dev.redisresilience.agent.maintenance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.config.AgentConfig;
import org.junit.jupiter.api.Test;

/** Defaults, the opt-in command and the auto endpoint type. */
class MaintenancePolicyTest {
  final MaintenancePolicy defaults = MaintenancePolicy.from(AgentConfig.defaults());

  @Test
  void defaultsFollowTheReferenceClients() {
    assertThat(defaults.mode()).isEqualTo(MaintenancePolicy.Mode.AUTO);
    assertThat(defaults.relaxedTimeoutNanos()).isEqualTo(10_000_000_000L);
    assertThat(defaults.maxWindowNanos()).isEqualTo(120_000_000_000L);
    assertThat(defaults.enabled()).isTrue();
  }

  @Test
  void autoEndpointTypeFollowsHowTheClientConnects() {
    assertThat(defaults.endpointTypeFor("127.0.0.1")).isEqualTo("internal-ip");
    assertThat(defaults.endpointTypeFor("10.1.2.3")).isEqualTo("internal-ip");
    assertThat(defaults.endpointTypeFor("192.168.0.4")).isEqualTo("internal-ip");
    assertThat(defaults.endpointTypeFor("8.8.8.8")).isEqualTo("external-ip");
    assertThat(defaults.endpointTypeFor("::1")).isEqualTo("internal-ip");
    assertThat(defaults.endpointTypeFor("[fd00::5]")).isEqualTo("internal-ip");
    assertThat(defaults.endpointTypeFor("localhost")).isEqualTo("internal-fqdn");
    assertThat(defaults.endpointTypeFor("redis.default.svc.cluster.local")).isEqualTo("internal-fqdn");
    assertThat(defaults.endpointTypeFor("redis-12000.c1.us-east-1.ec2.cloud.redislabs.com"))
        .isEqualTo("external-fqdn");
  }

  @Test
  void optInCommandAfterTheHandshake() {
    assertThat(defaults.optInArgs("127.0.0.1"))
        .containsExactly("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip");
    MaintenancePolicy explicit =
        new MaintenancePolicy(MaintenancePolicy.Mode.ON, 1, 1, "external-fqdn");
    assertThat(explicit.endpointTypeFor("127.0.0.1")).isEqualTo("external-fqdn");
  }

  @Test
  void offSendsNothing() {
    assertThat(new MaintenancePolicy(MaintenancePolicy.Mode.OFF, 1, 1, "auto").enabled()).isFalse();
  }
}
