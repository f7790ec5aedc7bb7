package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.Settings;
import dev.redisresilience.agent.install.ClassLoaderMatchers;
import dev.redisresilience.agent.install.InstrumentationModule;
import dev.redisresilience.agent.install.TypeInstrumentation;
import java.util.Arrays;
import java.util.List;
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

  @Override
  public String name() {
    return "lettuce";
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
        "dev.redisresilience.agent.instrumentation.lettuce.LettuceSentinels");
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
        new RedisClientInstrumentation());
  }
}
