package dev.redisresilience.agent.telemetry;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.sdk.common.InstrumentationLibraryInfo;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.LinkData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An ended CLIENT span of one operation, as the export thread needs it. Created on the
 * application thread with only cheap fields (ids as longs, the cached attributes by reference);
 * the hex ids, the merged attributes and the status are built when the exporter asks.
 */
final class RecordedSpan implements SpanData {
  private final String name;
  private final long traceIdHigh;
  private final long traceIdLow;
  private final long spanId;
  private final long parentSpanId; // 0: a root span
  private final int parentFlags; // ParentContext flags: the parent's W3C trace flags, remote bit
  private final int flags; // OTLP Span.flags: W3C trace flags, bits 8-9 the parent's is-remote
  private final long startEpochNanos;
  private final long endEpochNanos;
  private final Attributes base;
  private final String queryText;
  private final int batchSize;
  private final int attempts;
  private final String errorType;
  private final String statusCode;
  private final String statusDescription;
  private final List<EventData> events;
  private final InstrumentationScopeInfo scope;
  private final Resource resource;
  private Attributes attributes;

  /** OTLP span flags: W3C "sampled"; bit 8 "has is-remote", bit 9 "parent is remote". */
  static final int SAMPLED = 0x01;
  static final int HAS_IS_REMOTE = 0x100;
  static final int PARENT_IS_REMOTE = 0x200;
  /** A root span's flags, as the SDK writes them: sampled, parent not remote. */
  static final int ROOT_FLAGS = SAMPLED | HAS_IS_REMOTE;

  /**
   * The flags of a child of a parent with these {@code ParentContext} flags: the parent's W3C
   * trace flags (the trace id, and with it the "random" flag, is the parent's) and sampled, since
   * only sampled spans are recorded.
   */
  static int childFlags(int parentFlags) {
    return (parentFlags & 0xff)
        | SAMPLED
        | HAS_IS_REMOTE
        | ((parentFlags & ParentContext.PARENT_REMOTE) != 0 ? PARENT_IS_REMOTE : 0);
  }

  /** A root span. */
  RecordedSpan(
      String name,
      long traceIdHigh,
      long traceIdLow,
      long spanId,
      long startEpochNanos,
      long endEpochNanos,
      Attributes base,
      String queryText,
      int batchSize,
      int attempts,
      String errorType,
      String statusCode,
      String statusDescription,
      List<EventData> events,
      InstrumentationScopeInfo scope,
      Resource resource) {
    this(name, traceIdHigh, traceIdLow, spanId, 0, 0, startEpochNanos, endEpochNanos,
        base, queryText, batchSize, attempts, errorType, statusCode, statusDescription, events,
        scope, resource);
  }

  RecordedSpan(
      String name,
      long traceIdHigh,
      long traceIdLow,
      long spanId,
      long parentSpanId,
      int parentFlags,
      long startEpochNanos,
      long endEpochNanos,
      Attributes base,
      String queryText,
      int batchSize,
      int attempts,
      String errorType,
      String statusCode,
      String statusDescription,
      List<EventData> events,
      InstrumentationScopeInfo scope,
      Resource resource) {
    this.name = name;
    this.traceIdHigh = traceIdHigh;
    this.traceIdLow = traceIdLow;
    this.spanId = spanId;
    this.parentSpanId = parentSpanId;
    this.parentFlags = parentFlags;
    this.flags = parentSpanId == 0 ? ROOT_FLAGS : childFlags(parentFlags);
    this.startEpochNanos = startEpochNanos;
    this.endEpochNanos = endEpochNanos;
    this.base = base;
    this.queryText = queryText;
    this.batchSize = batchSize;
    this.attempts = attempts;
    this.errorType = errorType;
    this.statusCode = statusCode;
    this.statusDescription = statusDescription;
    this.events = events == null ? Collections.emptyList() : new ArrayList<>(events);
    this.scope = scope;
    this.resource = resource;
  }

  long traceIdHigh() {
    return traceIdHigh;
  }

  long traceIdLow() {
    return traceIdLow;
  }

  long spanIdLong() {
    return spanId;
  }

  long parentSpanIdLong() {
    return parentSpanId;
  }

  int flags() {
    return flags;
  }

  /** The endpoint's cached attributes, without the per-span ones. */
  Attributes baseAttributes() {
    return base;
  }

  String queryText() {
    return queryText;
  }

  int batchSize() {
    return batchSize;
  }

  int attempts() {
    return attempts;
  }

  String errorType() {
    return errorType;
  }

  String statusCode() {
    return statusCode;
  }

  String statusDescription() {
    return statusDescription;
  }

  @Override
  public String getName() {
    return name;
  }

  @Override
  public SpanKind getKind() {
    return SpanKind.CLIENT;
  }

  @Override
  public SpanContext getSpanContext() {
    return SpanContext.create(
        TraceId.fromLongs(traceIdHigh, traceIdLow),
        SpanId.fromLong(spanId),
        TraceFlags.fromByte((byte) flags),
        TraceState.getDefault());
  }

  @Override
  public SpanContext getParentSpanContext() {
    if (parentSpanId == 0) {
      return SpanContext.getInvalid();
    }
    String trace = TraceId.fromLongs(traceIdHigh, traceIdLow);
    String parent = SpanId.fromLong(parentSpanId);
    TraceFlags f = TraceFlags.fromByte((byte) parentFlags);
    return (parentFlags & ParentContext.PARENT_REMOTE) != 0
        ? SpanContext.createFromRemoteParent(trace, parent, f, TraceState.getDefault())
        : SpanContext.create(trace, parent, f, TraceState.getDefault());
  }

  @Override
  public StatusData getStatus() {
    return errorType == null
        ? StatusData.unset()
        : StatusData.create(StatusCode.ERROR, statusDescription == null ? "" : statusDescription);
  }

  @Override
  public long getStartEpochNanos() {
    return startEpochNanos;
  }

  @Override
  public synchronized Attributes getAttributes() {
    Attributes a = attributes;
    if (a == null) {
      if (queryText == null && batchSize < 0 && attempts <= 1 && errorType == null) {
        a = base;
      } else {
        AttributesBuilder b = base.toBuilder();
        if (queryText != null) {
          b.put(Operation.QUERY_TEXT, queryText);
        }
        if (batchSize >= 0) {
          b.put(Operation.BATCH_SIZE, (long) batchSize);
        }
        if (attempts > 1) {
          b.put(Operation.ATTEMPTS, (long) attempts);
        }
        if (errorType != null) {
          b.put(Operation.ERROR, errorType);
        }
        if (statusCode != null) {
          b.put(Operation.STATUS, statusCode);
        }
        a = b.build();
      }
      attributes = a;
    }
    return a;
  }

  @Override
  public List<EventData> getEvents() {
    return events;
  }

  @Override
  public List<LinkData> getLinks() {
    return Collections.emptyList();
  }

  @Override
  public long getEndEpochNanos() {
    return endEpochNanos;
  }

  @Override
  public boolean hasEnded() {
    return true;
  }

  @Override
  public int getTotalRecordedEvents() {
    return events.size();
  }

  @Override
  public int getTotalRecordedLinks() {
    return 0;
  }

  @Override
  public int getTotalAttributeCount() {
    return getAttributes().size();
  }

  @Override
  @Deprecated
  public InstrumentationLibraryInfo getInstrumentationLibraryInfo() {
    return InstrumentationLibraryInfo.create(scope.getName(), scope.getVersion());
  }

  @Override
  public InstrumentationScopeInfo getInstrumentationScopeInfo() {
    return scope;
  }

  @Override
  public Resource getResource() {
    return resource;
  }

  @Override
  public String toString() {
    return "RecordedSpan{" + name + ", " + getAttributes() + "}";
  }
}
