package dev.redisresilience.agent.telemetry;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.Settings;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/**
 * {@code telemetry.spans.sampling=interesting}: which spans to keep, decided when the operation
 * ends, when what happened is known. A root span (no application trace) is always kept when the
 * operation failed (an error reply, a timeout, a connection failure, anything), took more than one
 * attempt, has span events (a retry refused, a maintenance notification while it was in flight) or
 * took at least {@code telemetry.spans.sampling.slow}; any other root span is kept at {@code
 * telemetry.spans.sampling.ratio}, decided by its trace id as OpenTelemetry's TraceIdRatioBased
 * sampler does (the same trace id always gets the same answer). A child of the application's span
 * follows its parent: kept exactly when the parent is sampled, whatever happened (the application
 * decided for the whole trace; see the README, "Keeping the spans that matter").
 *
 * <p>The decision is a few compares on values {@link Operation#end} already holds, and a counter
 * increment for a span not kept: nothing is allocated for it.
 */
public final class InterestingSpans {
  public static final String OTEL = "otel";
  public static final String INTERESTING = "interesting";

  private final double ratio;
  private final long idUpperBound;
  private final long slowNanos; // Long.MAX_VALUE: no duration makes an operation interesting
  private final LongAdder sampledOut = new LongAdder();

  InterestingSpans(double ratio, Duration slow) {
    this.ratio = ratio;
    // TraceIdRatioBased's bound, so that the same trace id gets the same answer
    if (ratio <= 0) {
      idUpperBound = Long.MIN_VALUE;
    } else if (ratio >= 1) {
      idUpperBound = Long.MAX_VALUE;
    } else {
      idUpperBound = (long) (ratio * Long.MAX_VALUE);
    }
    long nanos = slow.toNanos();
    this.slowNanos = nanos <= 0 ? Long.MAX_VALUE : nanos;
  }

  /** The decision the configuration asks for; null for {@code otel} (the OTel sampler decides). */
  public static InterestingSpans from(AgentConfig config) {
    if (!INTERESTING.equals(config.get(Settings.SPANS_SAMPLING))) {
      return null;
    }
    return new InterestingSpans(
        config.get(Settings.SPANS_SAMPLING_RATIO), config.get(Settings.SPANS_SAMPLING_SLOW));
  }

  /**
   * Whether to keep a root span: {@code failed} the operation ended with a failure, {@code
   * attempts} it made (0 or 1: no retry), {@code events} whether its span has events, {@code
   * durationNanos} how long it took, {@code traceIdLow} the low 64 bits of its trace id.
   */
  boolean keepRoot(boolean failed, int attempts, boolean events, long durationNanos, long traceIdLow) {
    if (failed || attempts > 1 || events || durationNanos >= slowNanos || keepsTraceId(traceIdLow)) {
      return true;
    }
    sampledOut.increment();
    return false;
  }

  /** A child of the application's span: kept exactly when the parent is sampled. */
  static boolean keepChild(int parentFlags) {
    return (parentFlags & RecordedSpan.SAMPLED) != 0;
  }

  /** The ratio part: TraceIdRatioBased's test on the trace id's random low 64 bits. */
  boolean keepsTraceId(long traceIdLow) {
    return Math.abs(traceIdLow) < idUpperBound;
  }

  /** Root spans not kept since start (uninteresting and outside the ratio). */
  public long sampledOut() {
    return sampledOut.sum();
  }

  public double ratio() {
    return ratio;
  }

  /** The slow threshold in nanoseconds; Long.MAX_VALUE when off. */
  public long slowNanos() {
    return slowNanos;
  }

  @Override
  public String toString() {
    return "InterestingSpans{ratio="
        + ratio
        + ", slow="
        + (slowNanos == Long.MAX_VALUE ? "off" : slowNanos / 1_000_000.0 + "ms")
        + "}";
  }
}
