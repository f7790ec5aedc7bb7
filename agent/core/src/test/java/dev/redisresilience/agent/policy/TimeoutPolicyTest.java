package dev.redisresilience.agent.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.config.ConfigLoader;
import dev.redisresilience.agent.core.CommandTable;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TimeoutPolicyTest {
  static TimeoutPolicy policy(Map<String, String> props) {
    return Policies.from(ConfigLoader.load(props, Map.of())).timeouts();
  }

  @Test
  void capModeTakesTheLowerAndReplacesInfinite() {
    TimeoutPolicy p = policy(Map.of()); // cap, 5s/5s
    assertThat(p.mode()).isEqualTo(TimeoutPolicy.Mode.CAP);
    assertThat(p.commandMillis(2000, 2000)).isEqualTo(2000);
    assertThat(p.commandMillis(60000, 2000)).isEqualTo(5000);
    assertThat(p.commandMillis(0, 2000)).isEqualTo(5000); // infinite becomes finite
    assertThat(p.connectMillis(10000, 10000)).isEqualTo(5000);
  }

  @Test
  void overrideAndDefaultModes() {
    TimeoutPolicy override = policy(Map.of("redis.resilience.timeout.mode", "override"));
    assertThat(override.commandMillis(1000, 2000)).isEqualTo(5000);
    TimeoutPolicy dflt =
        policy(Map.of("redis.resilience.timeout.mode", "default", "redis.resilience.timeout.command", "700ms"));
    assertThat(dflt.commandMillis(2000, 2000)).isEqualTo(700); // the app kept the client's default
    assertThat(dflt.commandMillis(1500, 2000)).isEqualTo(1500); // the app chose: keep it
  }

  @Test
  void zeroLeavesTheClientsTimeout() {
    TimeoutPolicy p = policy(Map.of("redis.resilience.timeout.command", "0"));
    assertThat(p.commandMillis(60000, 2000)).isEqualTo(60000);
  }

  @Test
  void blockingCommandsGetTheirBlockTimePlusTheMargin() {
    TimeoutPolicy p = policy(Map.of());
    assertThat(p.attemptReadMillis(CommandTable.get().lookup("BLPOP"), new PolicyArgs("k", "5"))).isEqualTo(6000);
    assertThat(p.attemptReadMillis(CommandTable.get().lookup("BLPOP"), new PolicyArgs("k", "0"))).isZero();
    assertThat(
            p.attemptReadMillis(
                CommandTable.get().lookup("XREAD"), new PolicyArgs("BLOCK", "250", "STREAMS", "s", "$")))
        .isEqualTo(1250);
    assertThat(p.attemptReadMillis(CommandTable.get().lookup("WAIT"), new PolicyArgs("1", "3000"))).isEqualTo(4000);
    assertThat(p.attemptReadMillis(CommandTable.get().lookup("GET"), new PolicyArgs("k"))).isEqualTo(-1);
    assertThat(p.attemptReadMillis(CommandTable.get().lookup("XREAD"), new PolicyArgs("STREAMS", "s", "0")))
        .isEqualTo(-1);
  }

  @Test
  void perCommandTimeouts() {
    TimeoutPolicy p = policy(Map.of("redis.resilience.timeout.commands", "keys:30s, FLUSHALL:2m"));
    assertThat(p.attemptReadMillis(CommandTable.get().lookup("KEYS"), new PolicyArgs("*"))).isEqualTo(30000);
    assertThat(p.attemptReadMillis(CommandTable.get().lookup("FLUSHALL"), new PolicyArgs())).isEqualTo(120000);
    assertThat(p.attemptReadMillis(CommandTable.get().lookup("GET"), new PolicyArgs("k"))).isEqualTo(-1);
  }
}
