package dev.redisresilience.agent.install;

import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.none;

import dev.redisresilience.agent.AgentLog;
import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.ConfigLoader;
import dev.redisresilience.agent.config.Settings;
import dev.redisresilience.agent.policy.Policies;
import dev.redisresilience.agent.telemetry.AgentFaults;
import dev.redisresilience.agent.telemetry.AgentVersion;
import dev.redisresilience.agent.telemetry.ExportHealth;
import dev.redisresilience.agent.telemetry.PrometheusEndpoint;
import dev.redisresilience.agent.telemetry.SdkLogBridge;
import dev.redisresilience.agent.telemetry.SpanPipeline;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigProperties;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import dev.redisresilience.agent.telemetry.Telemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import dev.redisresilience.agent.bootstrap.IntFieldReader;
import dev.redisresilience.agent.bootstrap.StateHolder;
import net.bytebuddy.description.modifier.FieldPersistence;
import net.bytebuddy.implementation.FieldAccessor;
import java.util.concurrent.TimeUnit;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.modifier.FieldManifestation;
import net.bytebuddy.description.modifier.SyntheticState;
import net.bytebuddy.description.modifier.Visibility;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.implementation.bytecode.member.MethodInvocation;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.utility.JavaModule;

/**
 * Sets the agent up: configuration, the OpenTelemetry SDK, and one ByteBuddy {@link AgentBuilder}
 * for all instrumentation modules. Runs on the bootstrap class path in production; tests call
 * {@link #install(Instrumentation, AgentConfig, OpenTelemetry)} in-process with in-memory
 * exporters.
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
    List<String> clients = new ArrayList<>();
    List<String> prefixes = new ArrayList<>();
    if (config.get(Settings.JEDIS_ENABLED)) {
      clients.add("jedis");
      prefixes.add("redis/clients/jedis/");
    }
    if (config.get(Settings.LETTUCE_ENABLED)) {
      clients.add("lettuce");
      prefixes.add("io/lettuce/core/");
    }
    LazyTransformer gate = new LazyTransformer(prefixes.toArray(new String[0]));
    inst.addTransformer(gate, false);
    Thread setUp =
        new Thread(() -> setUp(inst, config, agentJar, gate), "redis-resilience-agent-set-up");
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
  private static void setUp(Instrumentation inst, AgentConfig config, String agentJar, LazyTransformer gate) {
    try {
      // java.util.logging initialisation costs start-up time: here, not in premain
      SdkLogBridge.install(
          AgentInstaller.class.getName().replace(".install.AgentInstaller", ""), AgentLog.isDebug());
      OpenTelemetry otel;
      SpanPipeline spans = null;
      try {
        SdkSetup sdkSetup = buildSdk(config, agentJar);
        otel = sdkSetup.sdk;
        spans = sdkSetup.spans;
      } catch (RuntimeException e) {
        // a telemetry misconfiguration must not take the resilience features away
        AgentLog.warn(
            "telemetry disabled, OpenTelemetry configuration is invalid: "
                + e.getMessage()
                + "; timeouts, retries and health checks stay active");
        otel = OpenTelemetry.noop();
      }
      ClassFileLocator agentClasses = ClassFileLocator.ForJarFile.of(new java.io.File(agentJar));
      gate.ready(agentBuilder(inst, config, otel, spans, agentClasses).makeRaw());
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
    agentBuilder(inst, config, otel, spans, agentClasses).installOn(inst);
    return ACTIVE;
  }

  private static final List<String> ACTIVE = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Telemetry and policies in place, and the one AgentBuilder for all modules. */
  static synchronized AgentBuilder agentBuilder(
      Instrumentation inst,
      AgentConfig config,
      OpenTelemetry otel,
      SpanPipeline spans,
      ClassFileLocator agentClasses) {
    if (installed) {
      throw new IllegalStateException("the agent is installed already");
    }
    installed = true;
    Telemetry.install(otel, config, spans);
    Policies.install(Policies.from(config));
    dev.redisresilience.agent.maintenance.MaintenancePolicy.install(
        dev.redisresilience.agent.maintenance.MaintenancePolicy.from(config));

    ClassLoader agentLoader = AgentInstaller.class.getClassLoader();
    ClassFileLocator adviceLocator = agentClasses;
    Advice.ExceptionHandler faults = faultHandler();

    // The default AgentBuilder prepares "nexus" self-injection through sun.misc.Unsafe (a JDK 24+
    // warning in the application's console). The agent never needs it. The property name is
    // relocated with ByteBuddy, so this does not touch an application's own ByteBuddy.
    System.setProperty(net.bytebuddy.dynamic.Nexus.PROPERTY, "true");
    List<String> active = new ArrayList<>();
    List<String> prefixes = new ArrayList<>();
    AgentBuilder builder =
        new AgentBuilder.Default(new ByteBuddy().with(TypeValidation.DISABLED))
            // premain: the clients are not loaded yet, so no retransformation is needed
            .with(AgentBuilder.RedefinitionStrategy.DISABLED)
            // advice and field accessors need no type initializers, so nothing is ever injected
            // (ByteBuddy's injectors would touch sun.misc.Unsafe: a warning on JDK 24+)
            .with(AgentBuilder.InitializationStrategy.NoOp.INSTANCE)
            .with(AgentBuilder.InjectionStrategy.Disabled.INSTANCE)
            .with(AgentBuilder.TypeStrategy.Default.REDEFINE)
            .with(AgentBuilder.DescriptionStrategy.Default.POOL_ONLY)
            .with(AgentBuilder.PoolStrategy.Default.FAST)
            .with(new ErrorListener());

    for (InstrumentationModule module :
        ServiceLoader.load(InstrumentationModule.class, serviceLoader(agentLoader))) {
      if (!module.enabled(config)) {
        AgentLog.debug(module.name() + " instrumentation disabled by configuration");
        continue;
      }
      active.add(module.name());
      HelperInjector injector =
          new HelperInjector(
              inst,
              module.helperClassNames(),
              agentLoader,
              name -> HelperInjector.readClassFile(agentClasses, name));
      for (TypeInstrumentation ti : module.typeInstrumentations()) {
        prefixes.add(packageOf(ti));
        builder =
            builder
                .type(ti.typeMatcher(), ti.classLoaderMatcher())
                .transform(
                    (b, type, loader, javaModule, pd) ->
                        applyInstrumentation(b, type, ti, loader, injector, adviceLocator, faults));
      }
    }
    ACTIVE.addAll(active);
    return builder.ignore(notIn(prefixes));
  }

  private static final String STATE_FIELD = "__rra$state";
  /** Types given the state field; their subclasses inherit it. */
  private static final Set<String> STATE_TYPES = ConcurrentHashMap.newKeySet();

  private static boolean inheritsState(TypeDescription type) {
    TypeDescription.Generic superType = type.getSuperClass();
    while (superType != null) {
      TypeDescription erasure = superType.asErasure();
      if (STATE_TYPES.contains(erasure.getName())) {
        return true;
      }
      superType = erasure.getSuperClass();
    }
    return false;
  }

  private static DynamicType.Builder<?> applyInstrumentation(
      DynamicType.Builder<?> builder,
      TypeDescription type,
      TypeInstrumentation ti,
      ClassLoader loader,
      HelperInjector injector,
      ClassFileLocator adviceLocator,
      Advice.ExceptionHandler faults) {
    injector.inject(loader);
    List<DynamicType.Builder<?>> holder = new ArrayList<>();
    holder.add(builder);
    ti.transform(
        new TypeInstrumentation.Transformer() {
          @Override
          public void applyAdvice(
              ElementMatcher<? super net.bytebuddy.description.method.MethodDescription> methods,
              String adviceClassName) {
            // advice signatures name client types: resolve them against the client's loader
            ClassFileLocator locator =
                new ClassFileLocator.Compound(
                    adviceLocator,
                    loader == null
                        ? ClassFileLocator.ForClassLoader.ofBootLoader()
                        : ClassFileLocator.ForClassLoader.of(loader));
            TypeDescription advice =
                net.bytebuddy.pool.TypePool.Default.of(locator).describe(adviceClassName).resolve();
            holder.set(
                0,
                holder
                    .get(0)
                    .visit(
                        Advice.withCustomMapping()
                            .to(advice, locator)
                            .withExceptionHandler(faults)
                            .on(methods)));
          }

          @Override
          public void defineStateField() {
            if (inheritsState(type)) {
              return;
            }
            STATE_TYPES.add(type.getName());
            holder.set(
                0,
                holder
                    .get(0)
                    .defineField(
                        STATE_FIELD,
                        Object.class,
                        Visibility.PRIVATE,
                        FieldPersistence.TRANSIENT,
                        FieldManifestation.VOLATILE,
                        SyntheticState.SYNTHETIC)
                    .implement(StateHolder.class)
                    .intercept(FieldAccessor.ofField(STATE_FIELD)));
          }

          @Override
          public void implementIntReader(String fieldName) {
            holder.set(
                0,
                holder
                    .get(0)
                    .implement(IntFieldReader.class)
                    .intercept(FieldAccessor.ofField(fieldName)));
          }
        });
    return holder.get(0);
  }

  /** Every suppressed throwable in advice goes to {@link AgentFaults#record(Throwable)}. */
  private static Advice.ExceptionHandler faultHandler() {
    try {
      return new Advice.ExceptionHandler.Simple(
          MethodInvocation.invoke(
              new net.bytebuddy.description.method.MethodDescription.ForLoadedMethod(
                  AgentFaults.class.getMethod("record", Throwable.class))));
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String packageOf(TypeInstrumentation ti) {
    String n = ti.getClass().getName();
    if (n.contains(".jedis.")) {
      return "redis.clients.jedis.";
    }
    if (n.contains(".lettuce.")) {
      return "io.lettuce.core.";
    }
    return "";
  }

  /** Only classes of the instrumented libraries are even considered, for start-up time. */
  private static ElementMatcher<TypeDescription> notIn(List<String> prefixes) {
    ElementMatcher.Junction<TypeDescription> any = none();
    for (String p : prefixes) {
      any = any.or(nameStartsWith(p));
    }
    final ElementMatcher.Junction<TypeDescription> included = any;
    return type -> !included.matches(type);
  }

  private static ClassLoader serviceLoader(ClassLoader agentLoader) {
    return agentLoader != null ? agentLoader : ClassLoader.getSystemClassLoader();
  }

  /** The SDK (metrics, log events) and the agent's span pipeline on the same configuration. */
  static final class SdkSetup {
    final OpenTelemetrySdk sdk;
    final SpanPipeline spans;

    SdkSetup(OpenTelemetrySdk sdk, SpanPipeline spans) {
      this.sdk = sdk;
      this.spans = spans;
    }
  }

  static SdkSetup buildSdk(AgentConfig config, String agentJar) {
    Map<String, String> defaults = new HashMap<>();
    // the OTLP default the specification asks for (the Java SDK alone still defaults to grpc)
    defaults.put("otel.exporter.otlp.protocol", "http/protobuf");
    // exemplars cost about 140 ns and 216 bytes per operation in an application trace (README,
    // "Trace context"): off unless asked for
    defaults.put("otel.metrics.exemplar.filter", "always_off");
    ClassLoader agentLoader = AgentInstaller.class.getClassLoader();
    // the span exporters, resource, sampler and batch settings the SDK configures from OTEL_*,
    // for the agent's own span pipeline
    List<SpanExporter> exporters = new ArrayList<>();
    Resource[] resource = {Resource.getDefault()};
    Sampler[] sampler = {null};
    ConfigProperties[] properties = {null};
    OpenTelemetrySdk sdk =
        AutoConfiguredOpenTelemetrySdk.builder()
            .addPropertiesSupplier(() -> defaults)
            .setServiceClassLoader(serviceLoader(agentLoader))
            .addPropertiesCustomizer(
                c -> {
                  properties[0] = c;
                  return java.util.Collections.emptyMap();
                })
            .addResourceCustomizer(
                (r, c) -> {
                  resource[0] = r;
                  return r;
                })
            .addSamplerCustomizer(
                (smp, c) -> {
                  sampler[0] = smp;
                  return smp;
                })
            .addSpanExporterCustomizer(
                (e, c) -> {
                  exporters.add(e); // the pipeline tracks export health itself
                  return ExportHealth.wrap(e);
                })
            .addMetricExporterCustomizer((e, c) -> ExportHealth.wrap(e))
            .addMeterProviderCustomizer((b, c) -> PrometheusEndpoint.register(b, config, agentJar))
            .addLogRecordExporterCustomizer((e, c) -> ExportHealth.wrap(e))
            .disableShutdownHook()
            .build()
            .getOpenTelemetrySdk();
    SpanPipeline spans = null;
    if (!exporters.isEmpty() && config.get(Settings.SPANS_ENABLED)) {
      ConfigProperties c = properties[0];
      spans =
          new SpanPipeline(
              exporters,
              resource[0],
              sampler[0],
              c == null ? 2048 : c.getInt("otel.bsp.max.queue.size", 2048),
              c == null ? 512 : c.getInt("otel.bsp.max.export.batch.size", 512),
              millis(c, "otel.bsp.schedule.delay", 5000) * 1_000_000L,
              millis(c, "otel.bsp.export.timeout", 30000) * 1_000_000L);
      // trace_based (or always_on) exemplars: the histogram must see the span's context
      spans.exemplars(
          c != null
              && !"always_off".equalsIgnoreCase(c.getString("otel.metrics.exemplar.filter", "always_off")));
    }
    long timeoutMillis = config.get(Settings.SHUTDOWN_FLUSH_TIMEOUT).toMillis();
    SpanPipeline pipeline = spans;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> flushAtExit(sdk, pipeline, timeoutMillis), "redis-resilience-agent-shutdown"));
    return new SdkSetup(sdk, spans);
  }

  private static long millis(ConfigProperties c, String key, long dflt) {
    if (c == null) {
      return dflt;
    }
    java.time.Duration d = c.getDuration(key);
    return d == null ? dflt : d.toMillis();
  }

  /**
   * The last export, bounded: some SDK shutdown steps block (a periodic metric reader's final
   * export, exporter retries), so they run on a daemon thread the exit does not wait for beyond
   * the timeout. An unreachable collector never holds the application's exit longer.
   */
  static void flushAtExit(OpenTelemetrySdk sdk, SpanPipeline spans, long configuredMillis) {
    // a collector that failed the last export gets a token chance, not the full timeout
    long timeoutMillis = ExportHealth.collectorDown() ? Math.min(configuredMillis, 200) : configuredMillis;
    Thread flush =
        new Thread(
            () -> {
              long t0 = System.nanoTime();
              if (spans != null) {
                spans.shutdown(timeoutMillis);
              }
              long left = timeoutMillis - (System.nanoTime() - t0) / 1_000_000;
              sdk.shutdown().join(Math.max(1, left), TimeUnit.MILLISECONDS);
            },
            "redis-resilience-agent-flush");
    flush.setDaemon(true);
    flush.start();
    try {
      flush.join(timeoutMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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

  /** Logs instrumentation errors; they are agent faults, never application failures. */
  private static final class ErrorListener extends AgentBuilder.Listener.Adapter {
    @Override
    public void onError(
        String typeName,
        ClassLoader classLoader,
        JavaModule module,
        boolean loaded,
        Throwable throwable) {
      AgentLog.warn("could not instrument " + typeName + ": " + throwable);
      AgentFaults.record(throwable);
    }

    @Override
    public void onTransformation(
        TypeDescription typeDescription,
        ClassLoader classLoader,
        JavaModule module,
        boolean loaded,
        DynamicType dynamicType) {
      AgentLog.debug("instrumented " + typeDescription.getName());
    }
  }
}
