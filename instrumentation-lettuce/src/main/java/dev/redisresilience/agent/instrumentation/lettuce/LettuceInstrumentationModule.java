package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.Settings;
import dev.redisresilience.agent.install.ClassLoaderMatchers;
import dev.redisresilience.agent.install.InstrumentationModule;
import dev.redisresilience.agent.install.TypeInstrumentation;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import net.bytebuddy.matcher.ElementMatcher;

/** Lettuce 6.1+ (tested: the README's support matrix; 6.6.0 via Spring Boot). */
public final class LettuceInstrumentationModule implements InstrumentationModule {
  // CommandListener arrived in 6.1, together with the CommandWrapper.onComplete delegation and
  // the event classes this instrumentation relies on; an older Lettuce is left alone, with one log
  // line saying so
  static final ElementMatcher<ClassLoader> LETTUCE_6_1_PLUS =
      ClassLoaderMatchers.supportedVersion(
          "Lettuce",
          "io.lettuce:lettuce-core",
          "io.lettuce.core.RedisClient",
          "io.lettuce.core.event.command.CommandListener",
          "6.1 or newer");

  /**
   * Lettuce 6.1 .. 6.x: no maintenance notification support of its own (7.0 brought
   * MaintNotificationsConfig), so the agent opts in, relaxes timeouts and hands off on MOVING.
   */
  static final ElementMatcher<ClassLoader> LETTUCE_6_WITHOUT_MAINTENANCE = withoutNativeMaintenance();

  private static ElementMatcher<ClassLoader> withoutNativeMaintenance() {
    Map<ClassLoader, Boolean> cache = new WeakHashMap<>();
    return loader -> {
      if (!LETTUCE_6_1_PLUS.matches(loader)) {
        return false;
      }
      synchronized (cache) {
        return cache.computeIfAbsent(
            loader, l -> l.getResource("io/lettuce/core/MaintNotificationsConfig.class") == null);
      }
    };
  }

  @Override
  public String name() {
    return "lettuce";
  }

  @Override
  public String clientPackage() {
    return "io.lettuce.core.";
  }

  @Override
  public boolean enabled(AgentConfig config) {
    return config.get(Settings.LETTUCE_ENABLED);
  }

  @Override
  public List<String> helperClassNames() {
    return Arrays.asList(
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceArgs",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceCall",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceErrors",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceOperations",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceConnections",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceReplay",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceClientOptions",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceTimeouts",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceTimeoutSource",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceAttempts",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceFreshCommands",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceConnectionEvents",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceReconnectDelay",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceEndpoints",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceOfflineQueue",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceHealthChecks",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceSentinels",
        // Lettuce 7.x: Smart Client Handoffs as Lettuce handles them, observed
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceNativeMaintenance",
        // Lettuce 6.x: Smart Client Handoffs by the agent
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceMaintenance",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceMaintenanceOptIn",
        "dev.redisresilience.agent.instrumentation.lettuce.LettucePushes",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceRelaxedExpiry",
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceHandoffs");
  }

  @Override
  public List<TypeInstrumentation> typeInstrumentations() {
    return Arrays.asList(
        new AsyncCommandInstrumentation(),
        new ChannelHandlerInstrumentation(),
        new ClientOptionsInstrumentation(),
        new CommandInstrumentation(),
        new CommandWrapperInstrumentation(),
        new CommandHandlerInstrumentation(),
        new ConnectionStateInstrumentation(),
        new ConnectionEventTriggerInstrumentation(),
        new EndpointActivationInstrumentation(),
        new EndpointWriteInstrumentation(),
        new EventBusInstrumentation(),
        new ReconnectDelayInstrumentation(),
        new SyncAwaitInstrumentation(),
        new SyncTimeoutInstrumentation(),
        new MasterReplicaTopologyInstrumentation(),
        new MasterReplicaTopologyRefreshInstrumentation(),
        new SentinelTopologyRefreshInstrumentation(),
        new RedisClientInstrumentation(),
        // Lettuce 7.x only (gated on MaintenanceAwareConnectionWatchdog)
        new NativeMaintenanceWatchdogInstrumentation(),
        new NativeMaintenanceWriterInstrumentation(),
        new NativeMaintenanceWriterCloseInstrumentation(),
        // Smart Client Handoffs, Lettuce 6.x only (7.x has its own)
        new HandshakeOptInInstrumentation(),
        new PushNotificationInstrumentation(),
        new MaintenanceExpiryInstrumentation(),
        new HandoffEndpointInstrumentation(),
        new ReconnectAddressInstrumentation());
  }
}
