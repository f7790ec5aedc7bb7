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
   * The package of the client's classes, e.g. {@code redis.clients.jedis.}: only classes under it
   * are considered for weaving, and until the agent is set up their loading waits for it.
   */
  String clientPackage();

  /**
   * Roots of the helper classes that touch client types, as binary names. Each root is defined in
   * every class loader that loads an instrumented client class, so it sees that loader's client
   * version, together with all its nested, anonymous and synthetic classes ({@code Root$*}, found
   * in the class files: list roots only). Advice and instrumentation classes are not helpers.
   */
  List<String> helperClassNames();

  List<TypeInstrumentation> typeInstrumentations();
}
