package dev.redisresilience.harness;

import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** One metric of one export, as it arrived over OTLP. */
public final class ReceivedMetric {
  public final String name;
  public final String unit;
  public final String description;
  public final String type;
  public final String scope;
  public final Map<String, Object> resource;
  public final boolean monotonic;
  public final String temporality;
  public final List<MetricPoint> points;

  ReceivedMetric(Metric m, String scope, Map<String, Object> resource) {
    this.name = m.getName();
    this.unit = m.getUnit();
    this.description = m.getDescription();
    this.scope = scope;
    this.resource = resource;
    List<MetricPoint> pts = new ArrayList<>();
    switch (m.getDataCase()) {
      case HISTOGRAM:
        type = "histogram";
        monotonic = false;
        temporality = m.getHistogram().getAggregationTemporality().name();
        for (HistogramDataPoint p : m.getHistogram().getDataPointsList()) {
          pts.add(MetricPoint.histogram(p));
        }
        break;
      case SUM:
        type = "sum";
        monotonic = m.getSum().getIsMonotonic();
        temporality = m.getSum().getAggregationTemporality().name();
        for (NumberDataPoint p : m.getSum().getDataPointsList()) {
          pts.add(MetricPoint.number(p));
        }
        break;
      case GAUGE:
        type = "gauge";
        monotonic = false;
        temporality = "";
        for (NumberDataPoint p : m.getGauge().getDataPointsList()) {
          pts.add(MetricPoint.number(p));
        }
        break;
      default:
        type = m.getDataCase().name().toLowerCase();
        monotonic = false;
        temporality = "";
    }
    this.points = Collections.unmodifiableList(pts);
  }

  @Override
  public String toString() {
    return name + "(" + type + ", " + unit + ") " + points;
  }
}
