package dev.redisresilience.harness;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** One span as it arrived over OTLP. */
public final class ReceivedSpan {
  public final String name;
  public final String kind;
  public final String scope;
  public final Map<String, Object> attributes;
  public final Map<String, Object> resource;
  public final String statusCode;
  public final String statusMessage;
  public final List<Event> events;
  public final long startNanos;
  public final long endNanos;
  public final String traceId;
  public final String spanId;
  public final String parentSpanId;
  /** OTLP Span.flags: W3C trace flags (bits 0-7), has-is-remote (8), parent-is-remote (9). */
  public final int flags;

  /** A span event. */
  public static final class Event {
    public final String name;
    public final Map<String, Object> attributes;
    public final long timeNanos;

    Event(String name, Map<String, Object> attributes, long timeNanos) {
      this.name = name;
      this.attributes = attributes;
      this.timeNanos = timeNanos;
    }

    @Override
    public String toString() {
      return name + attributes;
    }
  }

  ReceivedSpan(io.opentelemetry.proto.trace.v1.Span s, String scope, Map<String, Object> resource) {
    this.name = s.getName();
    this.kind = s.getKind().name().replace("SPAN_KIND_", "");
    this.scope = scope;
    this.attributes = OtlpReceiver.attributes(s.getAttributesList());
    this.resource = resource;
    this.statusCode = s.getStatus().getCode().name().replace("STATUS_CODE_", "");
    this.statusMessage = s.getStatus().getMessage();
    List<Event> ev = new ArrayList<>();
    for (io.opentelemetry.proto.trace.v1.Span.Event e : s.getEventsList()) {
      ev.add(new Event(e.getName(), OtlpReceiver.attributes(e.getAttributesList()), e.getTimeUnixNano()));
    }
    this.events = Collections.unmodifiableList(ev);
    this.startNanos = s.getStartTimeUnixNano();
    this.endNanos = s.getEndTimeUnixNano();
    this.traceId = hex(s.getTraceId().toByteArray());
    this.spanId = hex(s.getSpanId().toByteArray());
    this.parentSpanId = hex(s.getParentSpanId().toByteArray());
    this.flags = s.getFlags();
  }

  public Object attr(String key) {
    return attributes.get(key);
  }

  public double durationSeconds() {
    return (endNanos - startNanos) / 1e9;
  }

  private static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (byte x : b) {
      sb.append(String.format("%02x", x));
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return name + " " + kind + " " + statusCode + " " + attributes + (events.isEmpty() ? "" : " events=" + events);
  }
}
