package dev.redisresilience.agent.telemetry;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.metrics.InstrumentType;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;

/**
 * Remembers whether the last export reached the collector, so that JVM exit does not wait for a
 * final flush to a collector that is known to be down, and counts failed exports per signal (the
 * {@code redis.resilience.agent.export.failures} metric). Wraps the exporters the SDK configured.
 */
public final class ExportHealth {
  /** An export still running after this long means the collector is not answering. */
  static final long STUCK_NANOS = 500_000_000L;

  private static volatile boolean lastFailed;
  private static volatile boolean anyAttempt;
  private static final java.util.concurrent.atomic.AtomicInteger pending =
      new java.util.concurrent.atomic.AtomicInteger();
  private static volatile long pendingSince;
  /** Failed exports since start, indexed by {@link #SIGNALS}. */
  private static final java.util.concurrent.atomic.AtomicLongArray failures =
      new java.util.concurrent.atomic.AtomicLongArray(3);

  static final int SPANS = 0;
  static final int METRICS = 1;
  static final int LOGS = 2;
  /** Values of {@code redis.resilience.export.signal}, by index. */
  static final String[] SIGNALS = {"spans", "metrics", "logs"};

  private ExportHealth() {}

  /**
   * True when the most recent export failed, or an export has been waiting (connecting,
   * retrying) for more than half a second.
   */
  public static boolean collectorDown() {
    if (pending.get() > 0 && System.nanoTime() - pendingSince > STUCK_NANOS) {
      return true;
    }
    return anyAttempt && lastFailed;
  }

  /** Failed exports of one signal ({@link #SPANS}, {@link #METRICS}, {@link #LOGS}) since start. */
  static long failures(int signal) {
    return failures.get(signal);
  }

  static CompletableResultCode track(CompletableResultCode result, int signal) {
    if (pending.getAndIncrement() == 0) {
      pendingSince = System.nanoTime();
    }
    result.whenComplete(
        () -> {
          pending.decrementAndGet();
          anyAttempt = true;
          lastFailed = !result.isSuccess();
          if (lastFailed) {
            failures.incrementAndGet(signal);
          }
        });
    return result;
  }

  public static SpanExporter wrap(SpanExporter d) {
    return new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        return track(d.export(spans), SPANS);
      }

      @Override
      public CompletableResultCode flush() {
        return d.flush();
      }

      @Override
      public CompletableResultCode shutdown() {
        return d.shutdown();
      }
    };
  }

  public static MetricExporter wrap(MetricExporter d) {
    return new MetricExporter() {
      @Override
      public CompletableResultCode export(Collection<MetricData> metrics) {
        return track(d.export(metrics), METRICS);
      }

      @Override
      public AggregationTemporality getAggregationTemporality(InstrumentType type) {
        return d.getAggregationTemporality(type);
      }

      @Override
      public io.opentelemetry.sdk.metrics.Aggregation getDefaultAggregation(InstrumentType type) {
        return d.getDefaultAggregation(type);
      }

      @Override
      public MemoryMode getMemoryMode() {
        return d.getMemoryMode();
      }

      @Override
      public CompletableResultCode flush() {
        return d.flush();
      }

      @Override
      public CompletableResultCode shutdown() {
        return d.shutdown();
      }
    };
  }

  public static LogRecordExporter wrap(LogRecordExporter d) {
    return new LogRecordExporter() {
      @Override
      public CompletableResultCode export(Collection<LogRecordData> logs) {
        return track(d.export(logs), LOGS);
      }

      @Override
      public CompletableResultCode flush() {
        return d.flush();
      }

      @Override
      public CompletableResultCode shutdown() {
        return d.shutdown();
      }
    };
  }
}
