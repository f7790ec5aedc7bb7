package dev.redisresilience.agent.config;

import java.util.Collections;
import java.util.List;

/**
 * The effective configuration: one value per {@link Setting}, resolved once at start-up. Read it
 * while building policies, never per command.
 */
public final class AgentConfig {
  private final Object[] values;
  private final List<String> nonDefaults;
  private final List<String> problems;

  AgentConfig(Object[] values, List<String> nonDefaults, List<String> problems) {
    this.values = values;
    this.nonDefaults = Collections.unmodifiableList(nonDefaults);
    this.problems = Collections.unmodifiableList(problems);
  }

  /** All defaults; for tests and for the disabled agent. */
  public static AgentConfig defaults() {
    return ConfigLoader.load(Collections.emptyMap(), Collections.emptyMap());
  }

  @SuppressWarnings("unchecked")
  public <T> T get(Setting<T> setting) {
    return (T) values[setting.index];
  }

  /** Lines like {@code retry.max-attempts=6 (system property)}, for the start-up line. */
  public List<String> nonDefaults() {
    return nonDefaults;
  }

  /** One clear line per invalid key or value (key, value, what is allowed, what is used). */
  public List<String> problems() {
    return problems;
  }
}
