package dev.redisresilience.agent.testing;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.ConfigLoader;
import dev.redisresilience.agent.maintenance.MaintenancePolicy;
import dev.redisresilience.agent.policy.Policies;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs a test with other resilience settings, then puts the session's back. Keys are the
 * settings' names without the {@code redis.resilience.} prefix.
 */
public final class PolicyOverride implements AutoCloseable {
  private final Policies previous;
  private final MaintenancePolicy previousMaintenance;

  private PolicyOverride(Map<String, String> settings) {
    previous = Policies.get();
    previousMaintenance = MaintenancePolicy.get();
    Map<String, String> props = new HashMap<>();
    settings.forEach((k, v) -> props.put("redis.resilience." + k, v));
    AgentConfig config = ConfigLoader.load(props, Map.of());
    if (!config.problems().isEmpty()) {
      throw new IllegalArgumentException(config.problems().toString());
    }
    Policies.install(Policies.from(config));
    MaintenancePolicy.install(MaintenancePolicy.from(config));
  }

  public static PolicyOverride with(String... keyValues) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put(keyValues[i], keyValues[i + 1]);
    }
    return new PolicyOverride(m);
  }

  @Override
  public void close() {
    Policies.install(previous);
    MaintenancePolicy.install(previousMaintenance);
  }
}
