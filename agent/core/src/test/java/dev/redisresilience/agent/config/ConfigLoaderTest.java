package dev.redisresilience.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path dir;

  @Test
  void defaultsWhenNothingIsSet() {
    AgentConfig c = ConfigLoader.load(Map.of(), Map.of());
    assertThat(c.get(Settings.ENABLED)).isTrue();
    assertThat(c.get(Settings.QUERY_TEXT)).isEqualTo("sanitized");
    assertThat(c.get(Settings.QUERY_TEXT_MAX_LENGTH)).isEqualTo(256);
    assertThat(c.nonDefaults()).isEmpty();
    assertThat(c.problems()).isEmpty();
  }

  @Test
  void systemPropertyBeatsEnvironmentBeatsFileBeatsDefault() throws Exception {
    Path file = dir.resolve("agent.properties");
    Files.writeString(
        file,
        "redis.resilience.telemetry.query-text.max-length=100\n"
            + "redis.resilience.telemetry.query-text=off\n"
            + "redis.resilience.log.level=warn\n"
            + "redis.resilience.lettuce.enabled=false\n");
    Map<String, String> env = new HashMap<>();
    env.put("REDIS_RESILIENCE_TELEMETRY_QUERY_TEXT_MAX_LENGTH", "200");
    env.put("REDIS_RESILIENCE_LOG_LEVEL", "debug");
    Map<String, String> props = new HashMap<>();
    props.put("redis.resilience.config.file", file.toString());
    props.put("redis.resilience.telemetry.query-text.max-length", "300");

    AgentConfig c = ConfigLoader.load(props, env);

    assertThat(c.get(Settings.QUERY_TEXT_MAX_LENGTH)).isEqualTo(300); // system property
    assertThat(c.get(Settings.LOG_LEVEL)).isEqualTo("debug"); // env over file
    assertThat(c.get(Settings.QUERY_TEXT)).isEqualTo("off"); // file over default
    assertThat(c.get(Settings.LETTUCE_ENABLED)).isFalse(); // file
    assertThat(c.get(Settings.JEDIS_ENABLED)).isTrue(); // default
    assertThat(c.problems()).isEmpty();
    assertThat(c.nonDefaults())
        .containsExactlyInAnyOrder(
            "config.file=" + file + " (system property)",
            "lettuce.enabled=false (config file)",
            "log.level=debug (environment)",
            "telemetry.query-text=off (config file)",
            "telemetry.query-text.max-length=300 (system property)");
  }

  @Test
  void configFileFromEnvironment() throws Exception {
    Path file = dir.resolve("a.properties");
    Files.writeString(file, "redis.resilience.jedis.enabled=false\n");
    AgentConfig c =
        ConfigLoader.load(Map.of(), Map.of("REDIS_RESILIENCE_CONFIG_FILE", file.toString()));
    assertThat(c.get(Settings.JEDIS_ENABLED)).isFalse();
  }

  @Test
  void invalidValueGivesOneClearLineAndTheDefault() {
    AgentConfig c =
        ConfigLoader.load(
            Map.of(
                "redis.resilience.telemetry.query-text.max-length", "lots",
                "redis.resilience.enabled", "yes",
                "redis.resilience.telemetry.shutdown-timeout", "5 parsecs"),
            Map.of());
    assertThat(c.get(Settings.QUERY_TEXT_MAX_LENGTH)).isEqualTo(256);
    assertThat(c.get(Settings.ENABLED)).isTrue();
    assertThat(c.get(Settings.SHUTDOWN_FLUSH_TIMEOUT)).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.problems())
        .containsExactly(
            "invalid value for redis.resilience.enabled (system property): \"yes\" - expected true"
                + " or false; using the default true",
            "invalid value for redis.resilience.telemetry.query-text.max-length (system property):"
                + " \"lots\" - expected an integer from 16 to 32768; using the default 256",
            "invalid value for redis.resilience.telemetry.shutdown-timeout (system property):"
                + " \"5 parsecs\" - expected a duration from 0ms to 1m (e.g. 250ms, 5s, 1m); using"
                + " the default 5s");
  }

  @Test
  void prometheusEndpointSettings() {
    AgentConfig on =
        ConfigLoader.load(
            Map.of("redis.resilience.prometheus.port", "9464"),
            Map.of("REDIS_RESILIENCE_PROMETHEUS_HOST", "0.0.0.0"));
    assertThat(on.get(Settings.PROMETHEUS_PORT)).isEqualTo(9464);
    assertThat(on.get(Settings.PROMETHEUS_HOST)).isEqualTo("0.0.0.0");
    assertThat(on.problems()).isEmpty();
    AgentConfig bad =
        ConfigLoader.load(
            Map.of(
                "redis.resilience.prometheus.port", "70000",
                "redis.resilience.prometheus.host", "my host"),
            Map.of());
    assertThat(bad.get(Settings.PROMETHEUS_PORT)).isZero();
    assertThat(bad.get(Settings.PROMETHEUS_HOST)).isEqualTo("127.0.0.1");
    assertThat(bad.problems())
        .containsExactly(
            "invalid value for redis.resilience.prometheus.port (system property): \"70000\" -"
                + " expected an integer from 0 to 65535; using the default 0",
            "invalid value for redis.resilience.prometheus.host (system property): \"my host\" -"
                + " expected a host name or IP address, e.g. 127.0.0.1; using the default"
                + " 127.0.0.1");
  }

  @Test
  void outOfRangeIsInvalid() {
    AgentConfig c =
        ConfigLoader.load(Map.of("redis.resilience.telemetry.query-text.max-length", "5"), Map.of());
    assertThat(c.get(Settings.QUERY_TEXT_MAX_LENGTH)).isEqualTo(256);
    assertThat(c.problems()).hasSize(1);
    assertThat(c.problems().get(0)).contains("expected an integer from 16 to 32768");
  }

  @Test
  void unknownKeysAreReportedWithAHint() {
    AgentConfig c =
        ConfigLoader.load(
            Map.of("redis.resilience.jedis.enabeld", "false"),
            Map.of("REDIS_RESILIENCE_NO_SUCH_THING", "1", "PATH", "/bin"));
    assertThat(c.problems())
        .containsExactly(
            "unknown key REDIS_RESILIENCE_NO_SUCH_THING (environment); ignored",
            "unknown key redis.resilience.jedis.enabeld (system property); ignored - did you mean"
                + " redis.resilience.jedis.enabled?");
    assertThat(c.get(Settings.JEDIS_ENABLED)).isTrue();
  }

  @Test
  void unreadableFileIsOneLineAndTheRestStillApplies() {
    AgentConfig c =
        ConfigLoader.load(
            Map.of(
                "redis.resilience.config.file", dir.resolve("missing.properties").toString(),
                "redis.resilience.jedis.enabled", "false"),
            Map.of());
    assertThat(c.get(Settings.JEDIS_ENABLED)).isFalse();
    assertThat(c.problems()).hasSize(1);
    assertThat(c.problems().get(0))
        .startsWith("cannot read config file " + dir.resolve("missing.properties"))
        .endsWith("continuing with system properties, environment and defaults");
  }

  @Test
  void valuesAreCaseInsensitiveWhereThatIsObvious() {
    AgentConfig c =
        ConfigLoader.load(
            Map.of("redis.resilience.enabled", "FALSE", "redis.resilience.log.level", "WARN"),
            Map.of());
    assertThat(c.get(Settings.ENABLED)).isFalse();
    assertThat(c.get(Settings.LOG_LEVEL)).isEqualTo("warn");
  }

  @Test
  void listAndMapSettings() {
    AgentConfig c =
        ConfigLoader.load(
            Map.of(
                "redis.resilience.retry.on", "connection, loading ,TryAgain",
                "redis.resilience.timeout.commands", "keys:30s",
                "redis.resilience.retry.idempotent-commands", "evalsha"),
            Map.of());
    assertThat(c.problems()).isEmpty();
    assertThat(c.get(Settings.RETRY_ON)).containsExactly("connection", "LOADING", "TRYAGAIN");
    assertThat(c.get(Settings.TIMEOUT_COMMANDS)).containsExactly(Map.entry("KEYS", Duration.ofSeconds(30)));
    assertThat(c.get(Settings.RETRY_IDEMPOTENT_COMMANDS)).containsExactly("EVALSHA");
    assertThat(c.nonDefaults())
        .contains("retry.on=connection,LOADING,TRYAGAIN (system property)", "timeout.commands=KEYS:30s (system property)");

    AgentConfig bad =
        ConfigLoader.load(
            Map.of("redis.resilience.timeout.commands", "KEYS=30s", "redis.resilience.retry.on", "timeout,???"),
            Map.of());
    assertThat(bad.problems())
        .containsExactly(
            "invalid value for redis.resilience.timeout.commands (system property): \"KEYS=30s\" -"
                + " expected COMMAND:duration pairs, e.g. KEYS:30s; using the default (none)",
            "invalid value for redis.resilience.retry.on (system property): \"timeout,???\" - expected"
                + " connection, timeout or Redis error prefixes such as LOADING; using the default"
                + " connection,timeout,LOADING,TRYAGAIN,CLUSTERDOWN,MASTERDOWN,READONLY");
  }

  @Test
  void envNamesFollowTheRule() {
    assertThat(Settings.QUERY_TEXT_MAX_LENGTH.envVar())
        .isEqualTo("REDIS_RESILIENCE_TELEMETRY_QUERY_TEXT_MAX_LENGTH");
    assertThat(Settings.QUERY_TEXT_MAX_LENGTH.property())
        .isEqualTo("redis.resilience.telemetry.query-text.max-length");
  }
}
