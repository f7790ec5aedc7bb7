package dev.redisresilience.agent.install;

import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.none;

import dev.redisresilience.agent.AgentLog;
import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.telemetry.AgentFaults;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.dynamic.scaffold.MethodGraph;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.implementation.bytecode.member.MethodInvocation;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.pool.TypePool;
import net.bytebuddy.utility.JavaModule;

/**
 * The bytecode side of the agent: one ByteBuddy {@link AgentBuilder} that weaves every enabled
 * {@link InstrumentationModule}'s advice into its client's classes, injects the module's helpers
 * into each class loader that loads them, and gives instrumented types the agent's state field.
 * Knows nothing of telemetry or policies; which packages to consider comes from the modules.
 */
final class ClientWeaver {
  private ClientWeaver() {}

  /** The enabled modules, in {@link ServiceLoader} order. */
  static List<InstrumentationModule> enabledModules(AgentConfig config) {
    List<InstrumentationModule> enabled = new ArrayList<>();
    for (InstrumentationModule module : ServiceLoader.load(InstrumentationModule.class, serviceLoader())) {
      if (module.enabled(config)) {
        enabled.add(module);
      } else {
        AgentLog.debug(module.name() + " instrumentation disabled by configuration");
      }
    }
    return enabled;
  }

  /**
   * The AgentBuilder for {@code modules}.
   *
   * @param agentClasses where the advice and helper class files are read from (the agent jar; in
   *     tests, the test class path)
   */
  static AgentBuilder builder(
      Instrumentation inst, List<InstrumentationModule> modules, ClassFileLocator agentClasses) {
    ClassLoader agentLoader = ClientWeaver.class.getClassLoader();
    Advice.ExceptionHandler faults = faultHandler();
    // The default AgentBuilder prepares "nexus" self-injection through sun.misc.Unsafe (a JDK 24+
    // warning in the application's console). The agent never needs it. The property name is
    // relocated with ByteBuddy, so this does not touch an application's own ByteBuddy.
    System.setProperty(net.bytebuddy.dynamic.Nexus.PROPERTY, "true");
    List<String> prefixes = new ArrayList<>();
    AgentBuilder builder =
        new AgentBuilder.Default(
                new ByteBuddy()
                    .with(TypeValidation.DISABLED)
                    // The default compiler resolves every method of a type's whole hierarchy with
                    // generics: for Jedis (30+ command interfaces) that is ~240 MB of garbage and
                    // a second at its first load, and the burst makes G1 double the heap. Advice
                    // only needs the declared methods; AccessorWriter adds the agent's accessors.
                    .with(MethodGraph.Compiler.ForDeclaredMethods.INSTANCE))
            // premain: the clients are not loaded yet, so no retransformation is needed
            .with(AgentBuilder.RedefinitionStrategy.DISABLED)
            // advice and field accessors need no type initializers, so nothing is ever injected
            // (ByteBuddy's injectors would touch sun.misc.Unsafe: a warning on JDK 24+)
            .with(AgentBuilder.InitializationStrategy.NoOp.INSTANCE)
            .with(AgentBuilder.InjectionStrategy.Disabled.INSTANCE)
            // decorated, not redefined: the agent only runs visitors over a client class (advice and
            // AccessorWriter), so no method registry is built for the type's whole hierarchy
            .with(AgentBuilder.TypeStrategy.Default.DECORATE)
            .with(AgentBuilder.DescriptionStrategy.Default.POOL_ONLY)
            .with(AgentBuilder.PoolStrategy.Default.FAST)
            .with(new ErrorListener());
    for (InstrumentationModule module : modules) {
      prefixes.add(module.clientPackage());
      HelperInjector injector =
          new HelperInjector(
              inst,
              module.helperClassNames(),
              agentLoader,
              name -> HelperInjector.readClassFile(agentClasses, name));
      for (TypeInstrumentation ti : module.typeInstrumentations()) {
        builder =
            builder
                .type(ti.typeMatcher(), ti.classLoaderMatcher())
                .transform(
                    (b, type, loader, javaModule, pd) ->
                        applyInstrumentation(b, type, ti, loader, injector, agentClasses, faults));
      }
    }
    return builder.ignore(notIn(prefixes));
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
    // advice signatures name client types: resolve them against the client's loader, through one
    // pool for all of this type's advice
    ClassFileLocator clientClasses =
        loader == null
            ? ClassFileLocator.ForClassLoader.ofBootLoader()
            : ClassFileLocator.ForClassLoader.of(loader);
    ClassFileLocator locator = new ClassFileLocator.Compound(adviceLocator, clientClasses);
    TypePool advicePool = TypePool.Default.of(locator);
    List<AsmVisitorWrapper> members = new ArrayList<>();
    // all advice of the type in one wrapper: the type's methods are listed once, not per advice
    AsmVisitorWrapper.ForDeclaredMethods[] advice = {new AsmVisitorWrapper.ForDeclaredMethods()};
    ti.transform(
        new TypeInstrumentation.Transformer() {
          @Override
          public void applyAdvice(
              ElementMatcher<? super net.bytebuddy.description.method.MethodDescription> methods,
              String adviceClassName) {
            TypeDescription adviceType = advicePool.describe(adviceClassName).resolve();
            advice[0] =
                advice[0].invokable(
                    methods,
                    Advice.withCustomMapping()
                        .to(adviceType, locator)
                        .withExceptionHandler(faults));
          }

          @Override
          public void defineStateField() {
            // every matched type gets a field of its own, also under a superclass that has one:
            // the accessors are public and the advice calls them through StateHolder, so the
            // subclass's override serves the superclass's advice too. Skipping it when a
            // superclass "had" the field meant knowing which loader defined that superclass
            // and whether its transformation succeeded; a wrong guess left the subclass without
            // accessors. The cost is one unused reference per instance of such a subclass.
            members.add(AccessorWriter.stateField());
          }

          @Override
          public void implementIntReader(String fieldName) {
            if (!AccessorWriter.declaresIntField(type, fieldName)) {
              throw new IllegalStateException(
                  type.getName() + " has no int field " + fieldName + " to read");
            }
            members.add(AccessorWriter.intReader(fieldName));
          }
        });
    DynamicType.Builder<?> out = builder.visit(advice[0]);
    for (AsmVisitorWrapper m : members) {
      out = out.visit(m);
    }
    return out;
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

  /** Only classes of the instrumented libraries are even considered, for start-up time. */
  private static ElementMatcher<TypeDescription> notIn(List<String> prefixes) {
    ElementMatcher.Junction<TypeDescription> any = none();
    for (String p : prefixes) {
      any = any.or(nameStartsWith(p));
    }
    final ElementMatcher.Junction<TypeDescription> included = any;
    return type -> !included.matches(type);
  }

  private static ClassLoader serviceLoader() {
    ClassLoader agentLoader = ClientWeaver.class.getClassLoader();
    return agentLoader != null ? agentLoader : ClassLoader.getSystemClassLoader();
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
