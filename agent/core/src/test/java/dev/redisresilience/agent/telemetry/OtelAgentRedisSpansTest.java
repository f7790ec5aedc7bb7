package dev.redisresilience.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The OpenTelemetry Java agent's rule for whether its Jedis / Lettuce instrumentation is on. */
class OtelAgentRedisSpansTest {
  private static boolean reports(String library, String... settings) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < settings.length; i += 2) {
      m.put(settings[i], settings[i + 1]);
    }
    return OtelAgentRedisSpans.reportsSpans(library, m::get);
  }

  @Test
  void onByDefault() {
    assertThat(reports("jedis")).isTrue();
    assertThat(reports("lettuce")).isTrue();
  }

  @Test
  void offWhenAnyOfItsNamesIsDisabled() {
    assertThat(reports("jedis", "otel.instrumentation.jedis.enabled", "false")).isFalse();
    assertThat(reports("jedis", "otel.instrumentation.jedis-4.0.enabled", " FALSE ")).isFalse();
    assertThat(reports("lettuce", "otel.instrumentation.lettuce.enabled", "false")).isFalse();
    assertThat(reports("lettuce", "otel.instrumentation.lettuce-5.1.enabled", "false")).isFalse();
    // one library's setting leaves the other alone
    assertThat(reports("lettuce", "otel.instrumentation.jedis.enabled", "false")).isTrue();
    assertThat(reports("jedis", "otel.instrumentation.jedis.enabled", "true")).isTrue();
  }

  @Test
  void withInstrumentationsOffByDefaultOnlyWhenEnabledByName() {
    assertThat(reports("jedis", "otel.instrumentation.common.default-enabled", "false")).isFalse();
    assertThat(
            reports(
                "jedis",
                "otel.instrumentation.common.default-enabled", "false",
                "otel.instrumentation.jedis.enabled", "true"))
        .isTrue();
  }

  @Test
  void aDisabledOtelAgentReportsNothing() {
    assertThat(reports("jedis", "otel.javaagent.enabled", "false")).isFalse();
  }

  @Test
  void withoutTheOtelAgentThisAgentReportsItsSpans() {
    // the test JVM has no OpenTelemetry Java agent
    assertThat(OtelAgentRedisSpans.reportsSpans("jedis")).isFalse();
  }
}
