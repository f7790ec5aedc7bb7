package dev.redisresilience.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.telemetry.SpanPipeline.ChildSampling;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.Collections;
import org.junit.jupiter.api.Test;

/** A child of the application's span is sampled as the configured (OTEL_TRACES_SAMPLER) sampler says. */
class ChildSamplingTest {
  private static final long HIGH = 0x0af7651916cd43ddL;
  private static final long LOW = 0x8448eb211c80319cL;
  private static final long PARENT = 0xb7ad6b7169203331L;

  @Test
  void theDefaultParentBasedSamplersFollowTheParentWithoutBeingAsked() {
    assertThat(ChildSampling.of(null)).isEqualTo(ChildSampling.FOLLOW_PARENT);
    assertThat(ChildSampling.of(Sampler.parentBased(Sampler.alwaysOn()))).isEqualTo(ChildSampling.FOLLOW_PARENT);
    assertThat(ChildSampling.of(Sampler.parentBased(Sampler.alwaysOff()))).isEqualTo(ChildSampling.FOLLOW_PARENT);
    assertThat(ChildSampling.of(Sampler.parentBased(Sampler.traceIdRatioBased(0.25))))
        .isEqualTo(ChildSampling.FOLLOW_PARENT);
  }

  @Test
  void otherSamplersKeepOrAreAsked() {
    assertThat(ChildSampling.of(Sampler.alwaysOn())).isEqualTo(ChildSampling.KEEP);
    assertThat(ChildSampling.of(Sampler.alwaysOff())).isEqualTo(ChildSampling.ASK);
    assertThat(ChildSampling.of(Sampler.traceIdRatioBased(0.5))).isEqualTo(ChildSampling.ASK);
    // custom parent rules: not the default ones, so asked
    assertThat(
            ChildSampling.of(
                Sampler.parentBasedBuilder(Sampler.alwaysOn())
                    .setLocalParentNotSampled(Sampler.alwaysOn())
                    .build()))
        .isEqualTo(ChildSampling.ASK);
  }

  private static boolean keeps(Sampler sampler, int parentFlags) {
    SpanPipeline p =
        new SpanPipeline(Collections.emptyList(), Resource.empty(), sampler, 1, 1, 1_000_000L, 1_000_000L);
    try {
      return p.sampledChild(HIGH, LOW, PARENT, parentFlags, "GET", Attributes.empty());
    } finally {
      p.shutdown(100);
    }
  }

  @Test
  void decisions() {
    int sampled = 0x01;
    int notSampled = 0x00;
    int remoteNotSampled = ParentContext.PARENT_REMOTE;
    assertThat(keeps(null, sampled)).isTrue();
    assertThat(keeps(null, notSampled)).isFalse();
    assertThat(keeps(Sampler.parentBased(Sampler.alwaysOff()), sampled)).isTrue();
    assertThat(keeps(Sampler.parentBased(Sampler.alwaysOn()), remoteNotSampled)).isFalse();
    assertThat(keeps(Sampler.alwaysOn(), notSampled)).isTrue();
    assertThat(keeps(Sampler.alwaysOff(), sampled)).isFalse();
    // asked with the parent in its context: a custom rule for local unsampled parents applies
    Sampler keepLocalUnsampled =
        Sampler.parentBasedBuilder(Sampler.alwaysOff()).setLocalParentNotSampled(Sampler.alwaysOn()).build();
    assertThat(keeps(keepLocalUnsampled, notSampled)).isTrue();
    assertThat(keeps(keepLocalUnsampled, remoteNotSampled)).isFalse();
  }
}
