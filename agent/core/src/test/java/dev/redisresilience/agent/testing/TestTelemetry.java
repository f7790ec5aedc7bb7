package dev.redisresilience.agent.testing;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.metrics.data.HistogramPointData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** Reads what the in-process agent recorded. */
public final class TestTelemetry {
  private TestTelemetry() {}

  /** Forgets spans and logs recorded so far (metrics are cumulative: use deltas). */
  public static void reset() {
    AgentTestSession.SPANS.reset();
    AgentTestSession.LOGS.reset();
  }

  public static List<SpanData> spans() {
    return AgentTestSession.SPANS.getFinishedSpanItems();
  }

  /** Waits until {@code count} spans ended (async clients end them on another thread). */
  public static List<SpanData> awaitSpans(int count, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (spans().size() < count && System.nanoTime() < deadline) {
      sleep(5);
    }
    return spans();
  }

  /** Log records (connection down / restored, budget exhausted ...) since the last reset. */
  public static List<io.opentelemetry.sdk.logs.data.LogRecordData> logs() {
    return AgentTestSession.LOGS.getFinishedLogRecordItems();
  }

  /** Log records with this event name since the last reset. */
  public static long logCount(String eventName) {
    return logs().stream().filter(l -> eventName.equals(l.getEventName())).count();
  }

  /** Count of a histogram's measurements whose attributes match (cumulative: use deltas). */
  public static long histogramCount(String name, Predicate<Attributes> attributes) {
    long n = 0;
    for (MetricData m : metrics()) {
      if (m.getName().equals(name)) {
        for (HistogramPointData p : m.getHistogramData().getPoints()) {
          if (attributes.test(p.getAttributes())) {
            n += p.getCount();
          }
        }
      }
    }
    return n;
  }

  public static List<MetricData> metrics() {
    return new ArrayList<>(AgentTestSession.METRICS.collectAllMetrics());
  }

  /** Count of db.client.operation.duration measurements whose attributes match. */
  public static long durationCount(Predicate<Attributes> attributes) {
    long n = 0;
    for (MetricData m : metrics()) {
      if (!m.getName().equals("db.client.operation.duration")) {
        continue;
      }
      for (HistogramPointData p : m.getHistogramData().getPoints()) {
        if (attributes.test(p.getAttributes())) {
          n += p.getCount();
        }
      }
    }
    return n;
  }

  /** Sum of a counter's points whose attributes match. */
  public static long counter(String name, Predicate<Attributes> attributes) {
    long n = 0;
    for (MetricData m : metrics()) {
      if (!m.getName().equals(name)) {
        continue;
      }
      for (LongPointData p : m.getLongSumData().getPoints()) {
        if (attributes.test(p.getAttributes())) {
          n += p.getValue();
        }
      }
    }
    return n;
  }

  public static Predicate<Attributes> attr(String key, Object value) {
    return a -> {
      Object v =
          value instanceof Long || value instanceof Integer
              ? a.get(AttributeKey.longKey(key))
              : a.get(AttributeKey.stringKey(key));
      Object expected = value instanceof Integer ? Long.valueOf((Integer) value) : value;
      return expected.equals(v);
    };
  }

  public static Predicate<Attributes> any() {
    return a -> true;
  }

  public static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
