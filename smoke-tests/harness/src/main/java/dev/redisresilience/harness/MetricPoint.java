package dev.redisresilience.harness;

import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** One data point: a histogram (count, sum, buckets) or a number (value). */
public final class MetricPoint {
  public final Map<String, Object> attributes;
  public final long timeUnixNano;
  public final long count;
  public final double sum;
  public final List<Double> bounds;
  public final List<Long> bucketCounts;
  public final double value;
  private final boolean histogram;
  /** Histogram exemplars as "traceId/spanId" (lowercase hex), oldest first. */
  public final List<String> exemplars;

  private MetricPoint(
      Map<String, Object> attributes,
      long time,
      long count,
      double sum,
      List<Double> bounds,
      List<Long> bucketCounts,
      double value,
      boolean histogram,
      List<String> exemplars) {
    this.attributes = attributes;
    this.timeUnixNano = time;
    this.count = count;
    this.sum = sum;
    this.bounds = bounds;
    this.bucketCounts = bucketCounts;
    this.value = value;
    this.histogram = histogram;
    this.exemplars = exemplars;
  }

  static MetricPoint histogram(HistogramDataPoint p) {
    return new MetricPoint(
        OtlpReceiver.attributes(p.getAttributesList()),
        p.getTimeUnixNano(),
        p.getCount(),
        p.getSum(),
        Collections.unmodifiableList(p.getExplicitBoundsList()),
        Collections.unmodifiableList(p.getBucketCountsList()),
        0,
        true,
        exemplars(p.getExemplarsList()));
  }

  private static List<String> exemplars(List<io.opentelemetry.proto.metrics.v1.Exemplar> list) {
    List<String> out = new java.util.ArrayList<>();
    for (io.opentelemetry.proto.metrics.v1.Exemplar e : list) {
      out.add(hex(e.getTraceId().toByteArray()) + "/" + hex(e.getSpanId().toByteArray()));
    }
    return Collections.unmodifiableList(out);
  }

  private static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (byte x : b) {
      sb.append(String.format("%02x", x));
    }
    return sb.toString();
  }

  static MetricPoint number(NumberDataPoint p) {
    double v =
        p.getValueCase() == NumberDataPoint.ValueCase.AS_INT ? p.getAsInt() : p.getAsDouble();
    return new MetricPoint(
        OtlpReceiver.attributes(p.getAttributesList()),
        p.getTimeUnixNano(),
        0,
        0,
        List.of(),
        List.of(),
        v,
        false,
        List.of());
  }

  public boolean isHistogram() {
    return histogram;
  }

  @Override
  public String toString() {
    return attributes + (histogram ? " count=" + count + " sum=" + sum : " value=" + value);
  }
}
