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

  private MetricPoint(
      Map<String, Object> attributes,
      long time,
      long count,
      double sum,
      List<Double> bounds,
      List<Long> bucketCounts,
      double value,
      boolean histogram) {
    this.attributes = attributes;
    this.timeUnixNano = time;
    this.count = count;
    this.sum = sum;
    this.bounds = bounds;
    this.bucketCounts = bucketCounts;
    this.value = value;
    this.histogram = histogram;
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
        true);
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
        false);
  }

  public boolean isHistogram() {
    return histogram;
  }

  @Override
  public String toString() {
    return attributes + (histogram ? " count=" + count + " sum=" + sum : " value=" + value);
  }
}
