package dev.redisresilience.agent.install;

import dev.redisresilience.agent.AgentLog;
import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.ConfigLoader;
import dev.redisresilience.agent.config.Settings;
import dev.redisresilience.agent.maintenance.MaintenancePolicy;
import dev.redisresilience.agent.policy.Policies;
import dev.redisresilience.agent.telemetry.AgentVersion;
import dev.redisresilience.agent.telemetry.SdkLogBridge;
import dev.redisresilience.agent.telemetry.SpanPipeline;
import dev.redisresilience.agent.telemetry.Telemetry;
import io.opentelemetry.api.OpenTelemetry;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.dynamic.ClassFileLocator;

/**
 * Sets the agent up, in order: configuration, the telemetry ({@link TelemetrySdk}), the policies,
 * then the weaving of the clients ({@link ClientWeaver}). Runs on the bootstrap class path in
 * production; tests call {@link #install(Instrumentation, AgentConfig, OpenTelemetry, SpanPipeline)}
 * in-process with in-memory exporters.
 */
public final class AgentInstaller {
  private static volatile boolean installed;

  private AgentInstaller() {}

  /** Entry point from {@code Premain}, reflectively, once the jar is on the bootstrap path. */
  public static void installFromAgent(Instrumentation inst, String agentJar, boolean dynamicAttach) {
    AgentConfig config = ConfigLoader.fromEnvironment();
    applyLogLevel(config);
    for (String problem : config.problems()) {
      AgentLog.warn(problem);
    }
    if (!config.get(Settings.ENABLED)) {
      AgentLog.info(AgentVersion.get() + " disabled (redis.resilience.enabled=false); doing nothing");
      return;
    }
    List<InstrumentationModule> modules = ClientWeaver.enabledModules(config);
    List<String> clients = new ArrayList<>();
    List<String> prefixes = new ArrayList<>();
    for (InstrumentationModule m : modules) {
      clients.add(m.name());
      prefixes.add(m.clientPackage().replace('.', '/'));
    }
    // the clients' classes wait for the weaver while the slow part of set-up runs
    LazyTransformer gate = new LazyTransformer(prefixes.toArray(new String[0]));
    inst.addTransformer(gate, false);
    Thread setUp =
        new Thread(() -> setUp(inst, config, modules, agentJar, gate), "redis-resilience-agent-set-up");
    setUp.setDaemon(true);
    setUp.start();
    if (dynamicAttach) {
      warnAboutLoadedClients(inst);
    }
    AgentLog.info(
        AgentVersion.get()
            + " started; instrumenting "
            + (clients.isEmpty() ? "nothing" : String.join(", ", clients))
            + "; "
            + (config.nonDefaults().isEmpty()
                ? "all settings at their defaults"
                : "non-default settings: " + String.join(", ", config.nonDefaults())));
  }

  /** The slow part of start-up, off the application's main thread: SDK and ByteBuddy. */
  private static void setUp(
      Instrumentation inst,
      AgentConfig config,
      List<InstrumentationModule> modules,
      String agentJar,
      LazyTransformer gate) {
    try {
      // java.util.logging initialisation costs start-up time: here, not in premain
      SdkLogBridge.install(
          AgentInstaller.class.getName().replace(".install.AgentInstaller", ""), AgentLog.isDebug());
      OpenTelemetry otel;
      SpanPipeline spans = null;
      try {
        TelemetrySdk telemetry = TelemetrySdk.build(config, agentJar);
        otel = telemetry.sdk;
        spans = telemetry.spans;
      } catch (RuntimeException e) {
        // a telemetry misconfiguration must not take the resilience features away
        AgentLog.warn(
            "telemetry disabled, OpenTelemetry configuration is invalid: "
                + e.getMessage()
                + "; timeouts, retries and health checks stay active");
        otel = OpenTelemetry.noop();
      }
      ClassFileLocator agentClasses = ClassFileLocator.ForJarFile.of(new java.io.File(agentJar));
      gate.ready(agentBuilder(inst, config, modules, otel, spans, agentClasses).makeRaw());
    } catch (Throwable t) {
      AgentLog.warn("failed to set up; the application continues without the agent: " + t);
      gate.failed();
    }
  }

  /**
   * Installs every enabled instrumentation module and routes telemetry to {@code otel}.
   *
   * @return the names of the active modules
   */
  public static List<String> install(
      Instrumentation inst, AgentConfig config, OpenTelemetry otel, SpanPipeline spans) {
    return install(
        inst,
        config,
        otel,
        spans,
        ClassFileLocator.ForClassLoader.of(AgentInstaller.class.getClassLoader()));
  }

  /**
   * @param agentClasses where the advice and helper class files are read from (the agent jar; in
   *     tests, the test class path)
   */
  public static synchronized List<String> install(
      Instrumentation inst,
      AgentConfig config,
      OpenTelemetry otel,
      SpanPipeline spans,
      ClassFileLocator agentClasses) {
    List<InstrumentationModule> modules = ClientWeaver.enabledModules(config);
    agentBuilder(inst, config, modules, otel, spans, agentClasses).installOn(inst);
    List<String> names = new ArrayList<>();
    for (InstrumentationModule m : modules) {
      names.add(m.name());
    }
    return names;
  }

  /** Telemetry and policies in place, then the one AgentBuilder for all modules. */
  private static synchronized AgentBuilder agentBuilder(
      Instrumentation inst,
      AgentConfig config,
      List<InstrumentationModule> modules,
      OpenTelemetry otel,
      SpanPipeline spans,
      ClassFileLocator agentClasses) {
    if (installed) {
      throw new IllegalStateException("the agent is installed already");
    }
    installed = true;
    Telemetry.install(otel, config, spans);
    Policies.install(Policies.from(config));
    MaintenancePolicy.install(MaintenancePolicy.from(config));
    return ClientWeaver.builder(inst, modules, agentClasses);
  }

  private static void applyLogLevel(AgentConfig config) {
    AgentLog.setLevel(
        AgentLog.Level.valueOf(config.get(Settings.LOG_LEVEL).toUpperCase(Locale.ROOT)));
  }

  private static void warnAboutLoadedClients(Instrumentation inst) {
    for (Class<?> c : inst.getAllLoadedClasses()) {
      String n = c.getName();
      if (n.equals("redis.clients.jedis.Connection") || n.equals("io.lettuce.core.RedisChannelHandler")) {
        AgentLog.warn(
            "attached after "
                + n
                + " was loaded; clients already loaded are not instrumented (attach with"
                + " -javaagent instead)");
      }
    }
  }
}
