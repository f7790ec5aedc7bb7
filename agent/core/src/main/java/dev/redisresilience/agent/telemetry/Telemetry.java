package dev.redisresilience.agent.telemetry;

import static dev.redisresilience.agent.telemetry.TelemetryNames.AGENT_FAULTS;
import static dev.redisresilience.agent.telemetry.TelemetryNames.AGENT_FAULT_KIND;

import dev.redisresilience.agent.config.AgentConfig;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongCounter;

/**
 * The telemetry facade: the one OpenTelemetry instance the agent reports to (its own relocated
 * SDK in production, in-memory exporters in tests), plus one {@link ClientTelemetry} per client
 * library. Telemetry records; it never changes behaviour.
 */
public final class Telemetry {
  private static final AttributeKey<String> FAULT_KIND = AttributeKey.stringKey(AGENT_FAULT_KIND);
  private static volatile Telemetry current =
      new Telemetry(OpenTelemetry.noop(), AgentConfig.defaults(), null);

  private final ClientTelemetry jedis;
  private final ClientTelemetry lettuce;
  private final LongCounter faults;

  Telemetry(OpenTelemetry otel, AgentConfig config, SpanPipeline spans) {
    if (spans != null) {
      spans.interesting(InterestingSpans.from(config)); // null: otel.traces.sampler decides
    }
    this.jedis = new ClientTelemetry("jedis", otel, config, spans);
    this.lettuce = new ClientTelemetry("lettuce", otel, config, spans);
    this.faults =
        otel.getMeter(TelemetryNames.SCOPE_PREFIX + "agent")
            .counterBuilder(AGENT_FAULTS)
            .setUnit("{fault}")
            .setDescription("Faults inside the agent; the application's calls were not affected.")
            .build();
    AttributeKey<String> signal = AttributeKey.stringKey(TelemetryNames.EXPORT_SIGNAL);
    Attributes[] signals = new Attributes[ExportHealth.SIGNALS.length];
    for (int i = 0; i < signals.length; i++) {
      signals[i] = Attributes.of(signal, ExportHealth.SIGNALS[i]);
    }
    // observed, so that a healthy agent reports 0 rather than no series at all
    otel.getMeter(TelemetryNames.SCOPE_PREFIX + "agent")
        .counterBuilder(TelemetryNames.AGENT_EXPORT_FAILURES)
        .setUnit("{export}")
        .setDescription("Exports (spans, metrics, logs) that did not reach the collector.")
        .buildWithCallback(
            m -> {
              for (int i = 0; i < signals.length; i++) {
                m.record(ExportHealth.failures(i), signals[i]);
              }
            });
    if (spans != null) {
      otel.getMeter(TelemetryNames.SCOPE_PREFIX + "agent")
          .counterBuilder(TelemetryNames.AGENT_SPANS_DROPPED)
          .setUnit("{span}")
          .setDescription("Spans not exported because the export queue was full.")
          .buildWithCallback(m -> m.record(spans.dropped()));
      otel.getMeter(TelemetryNames.SCOPE_PREFIX + "agent")
          .counterBuilder(TelemetryNames.AGENT_SPANS_SAMPLED_OUT)
          .setUnit("{span}")
          .setDescription(
              "Root spans telemetry.spans.sampling=interesting did not keep (nothing interesting"
                  + " happened, outside the ratio).")
          .buildWithCallback(
              m -> {
                InterestingSpans s = spans.interesting();
                if (s != null) {
                  m.record(s.sampledOut());
                }
              });
    }
  }

  /**
   * @param spans where spans are exported (null: no spans); metrics and log events go through
   *     {@code otel}
   */
  public static Telemetry install(OpenTelemetry otel, AgentConfig config, SpanPipeline spans) {
    Telemetry t = new Telemetry(otel, config, spans);
    current = t;
    return t;
  }

  public static Telemetry get() {
    return current;
  }

  public static ClientTelemetry jedis() {
    return current.jedis;
  }

  public static ClientTelemetry lettuce() {
    return current.lettuce;
  }

  void recordFault(String kind) {
    faults.add(1, Attributes.of(FAULT_KIND, kind));
  }
}
