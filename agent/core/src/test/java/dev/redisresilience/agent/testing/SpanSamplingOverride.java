package dev.redisresilience.agent.testing;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.ConfigLoader;
import dev.redisresilience.agent.telemetry.InterestingSpans;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs a test with other {@code telemetry.spans.sampling*} settings on the session's span
 * pipeline, then puts the session's back. Keys without the {@code redis.resilience.} prefix.
 */
public final class SpanSamplingOverride implements AutoCloseable {
  private final InterestingSpans previous;
  private final InterestingSpans current;

  private SpanSamplingOverride(Map<String, String> settings) {
    AgentTestSession.install();
    previous = AgentTestSession.PIPELINE.interesting();
    Map<String, String> props = new HashMap<>();
    settings.forEach((k, v) -> props.put("redis.resilience." + k, v));
    AgentConfig config = ConfigLoader.load(props, Map.of());
    if (!config.problems().isEmpty()) {
      throw new IllegalArgumentException(config.problems().toString());
    }
    current = InterestingSpans.from(config);
    AgentTestSession.PIPELINE.interesting(current);
  }

  public static SpanSamplingOverride with(String... keyValues) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      m.put(keyValues[i], keyValues[i + 1]);
    }
    return new SpanSamplingOverride(m);
  }

  /** telemetry.spans.sampling=interesting at this ratio and slow threshold. */
  public static SpanSamplingOverride interesting(String ratio, String slow) {
    return with(
        "telemetry.spans.sampling", "interesting",
        "telemetry.spans.sampling.ratio", ratio,
        "telemetry.spans.sampling.slow", slow);
  }

  /** Root spans this override's decision did not keep so far. */
  public long sampledOut() {
    return current == null ? 0 : current.sampledOut();
  }

  @Override
  public void close() {
    AgentTestSession.PIPELINE.interesting(previous);
  }
}
