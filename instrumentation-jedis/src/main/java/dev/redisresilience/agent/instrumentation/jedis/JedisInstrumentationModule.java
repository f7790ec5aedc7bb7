package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.Settings;
import dev.redisresilience.agent.install.ClassLoaderMatchers;
import dev.redisresilience.agent.install.InstrumentationModule;
import dev.redisresilience.agent.install.TypeInstrumentation;
import java.util.Arrays;
import java.util.List;
import net.bytebuddy.matcher.ElementMatcher;

/** Jedis 4.0+ (tested: 5.0.0, 6.0.0 via Spring Boot, 8.0.2). */
public final class JedisInstrumentationModule implements InstrumentationModule {
  // CommandArguments and Connection.executeCommand(CommandObject) exist since Jedis 4.0
  static final ElementMatcher<ClassLoader> JEDIS_4_PLUS =
      ClassLoaderMatchers.hasClassNamed("redis.clients.jedis.CommandArguments");

  @Override
  public String name() {
    return "jedis";
  }

  @Override
  public boolean enabled(AgentConfig config) {
    return config.get(Settings.JEDIS_ENABLED);
  }

  @Override
  public List<String> helperClassNames() {
    return Arrays.asList(
        "dev.redisresilience.agent.instrumentation.jedis.JedisArgs",
        "dev.redisresilience.agent.instrumentation.jedis.JedisErrors",
        "dev.redisresilience.agent.instrumentation.jedis.AgentConnectionException",
        "dev.redisresilience.agent.instrumentation.jedis.JedisTimeouts",
        "dev.redisresilience.agent.instrumentation.jedis.JedisConnections",
        "dev.redisresilience.agent.instrumentation.jedis.JedisOperations",
        "dev.redisresilience.agent.instrumentation.jedis.JedisRetries",
        "dev.redisresilience.agent.instrumentation.jedis.JedisRedirects",
        "dev.redisresilience.agent.instrumentation.jedis.JedisSentinels");
  }

  @Override
  public List<TypeInstrumentation> typeInstrumentations() {
    return Arrays.asList(
        new ConnectionInstrumentation(),
        new SocketFactoryInstrumentation(),
        new UnifiedJedisInstrumentation(),
        new LegacyJedisInstrumentation(),
        new PoolFactoryInstrumentation(),
        new ClusterSlotsInstrumentation(),
        new PubSubInstrumentation(),
        new PipelineInstrumentation(),
        new TransactionInstrumentation(),
        new SentinelInstrumentation());
  }
}
