package dev.redisresilience.harness;

import io.opentelemetry.proto.logs.v1.LogRecord;
import java.util.Map;

/** One log record (event) as it arrived over OTLP. */
public final class ReceivedLog {
  public final String eventName;
  public final Object body;
  public final String severityText;
  public final int severityNumber;
  public final Map<String, Object> attributes;
  public final String scope;
  public final Map<String, Object> resource;
  public final long timeUnixNano;

  ReceivedLog(LogRecord r, String scope, Map<String, Object> resource) {
    this.eventName = r.getEventName();
    this.body = OtlpReceiver.value(r.getBody());
    this.severityText = r.getSeverityText();
    this.severityNumber = r.getSeverityNumberValue();
    this.attributes = OtlpReceiver.attributes(r.getAttributesList());
    this.scope = scope;
    this.resource = resource;
    this.timeUnixNano = r.getTimeUnixNano();
  }

  @Override
  public String toString() {
    return eventName + " " + severityText + " " + attributes + " " + body;
  }
}
