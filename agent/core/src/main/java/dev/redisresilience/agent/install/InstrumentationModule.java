package dev.redisresilience.agent.install;

import dev.redisresilience.agent.config.AgentConfig;
import java.util.List;

/**
 * One client library's instrumentation (found with {@link java.util.ServiceLoader}). The module
 * only says where to weave and which helpers to inject; policy and telemetry live in the core.
 */
public interface InstrumentationModule {
  /** Short name used in logs and config, e.g. {@code jedis}. */
  String name();

  boolean enabled(AgentConfig config);

  /**
   * Helper classes that touch client types. They are defined in each class loader that loads an
   * instrumented client class, so they see that loader's client version.
   */
  List<String> helperClassNames();

  List<TypeInstrumentation> typeInstrumentations();
}
