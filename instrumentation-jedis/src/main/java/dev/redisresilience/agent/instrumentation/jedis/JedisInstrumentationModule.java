package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.Settings;
import dev.redisresilience.agent.install.ClassLoaderMatchers;
import dev.redisresilience.agent.install.InstrumentationModule;
import dev.redisresilience.agent.install.TypeInstrumentation;
import java.util.Arrays;
import java.util.List;
import net.bytebuddy.matcher.ElementMatcher;

/** Jedis 4.0+ (tested: the README's support matrix; 6.0.0 via Spring Boot). */
public final class JedisInstrumentationModule implements InstrumentationModule {
  // CommandArguments and Connection.executeCommand(CommandObject) exist since Jedis 4.0; an older
  // Jedis is left alone, with one log line saying so
  static final ElementMatcher<ClassLoader> JEDIS_4_PLUS =
      ClassLoaderMatchers.supportedVersion(
          "Jedis",
          "redis.clients:jedis",
          "redis.clients.jedis.Jedis",
          "redis.clients.jedis.CommandArguments",
          "4.0 or newer");

  @Override
  public String name() {
    return "jedis";
  }

  @Override
  public String clientPackage() {
    return "redis.clients.jedis.";
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
        "dev.redisresilience.agent.instrumentation.jedis.JedisSentinels",
        "dev.redisresilience.agent.instrumentation.jedis.JedisMaintenance",
        "dev.redisresilience.agent.instrumentation.jedis.JedisPushes",
        "dev.redisresilience.agent.instrumentation.jedis.JedisMoves",
        "dev.redisresilience.agent.instrumentation.jedis.JedisHandoffs");
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
