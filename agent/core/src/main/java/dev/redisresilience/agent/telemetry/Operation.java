package dev.redisresilience.agent.telemetry;

import static dev.redisresilience.agent.telemetry.TelemetryNames.DB_OPERATION_BATCH_SIZE;
import static dev.redisresilience.agent.telemetry.TelemetryNames.DB_QUERY_TEXT;
import static dev.redisresilience.agent.telemetry.TelemetryNames.DB_RESPONSE_STATUS_CODE;
import static dev.redisresilience.agent.telemetry.TelemetryNames.ERROR_TYPE;

import dev.redisresilience.agent.core.Failure;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * One logical Redis operation in flight: the span (covering every attempt) and the start time of
 * the duration metric. Ends exactly once, from whichever thread completes the command.
 */
public final class Operation {
  static final AttributeKey<String> QUERY_TEXT = AttributeKey.stringKey(DB_QUERY_TEXT);
  static final AttributeKey<Long> BATCH_SIZE = AttributeKey.longKey(DB_OPERATION_BATCH_SIZE);
  static final AttributeKey<String> ERROR = AttributeKey.stringKey(ERROR_TYPE);
  static final AttributeKey<String> STATUS = AttributeKey.stringKey(DB_RESPONSE_STATUS_CODE);

  private static final AtomicIntegerFieldUpdater<Operation> ENDED =
      AtomicIntegerFieldUpdater.newUpdater(Operation.class, "ended");

  private final ClientTelemetry telemetry;
  private final Endpoint endpoint;
  private final Endpoint.OpAttributes attributes;
  private final Span span;
  private final long startNanos;
  private volatile int ended;

  Operation(
      ClientTelemetry telemetry,
      Endpoint endpoint,
      Endpoint.OpAttributes attributes,
      String queryText,
      int batchSize) {
    this.telemetry = telemetry;
    this.endpoint = endpoint;
    this.attributes = attributes;
    this.startNanos = System.nanoTime();
    if (telemetry.spans) {
      io.opentelemetry.api.trace.SpanBuilder b =
          telemetry
              .tracer
              .spanBuilder(attributes.spanName)
              .setSpanKind(SpanKind.CLIENT)
              .setNoParent()
              .setAllAttributes(attributes.span);
      if (queryText != null) {
        b.setAttribute(QUERY_TEXT, queryText);
      }
      if (batchSize >= 0) {
        b.setAttribute(BATCH_SIZE, (long) batchSize);
      }
      span = b.startSpan();
    } else {
      span = null;
    }
  }

  public Endpoint endpoint() {
    return endpoint;
  }

  /** Ends the operation; {@code failure} null means success. Later calls are ignored. */
  public void end(Failure failure) {
    if (!ENDED.compareAndSet(this, 0, 1)) {
      return;
    }
    long nanos = System.nanoTime() - startNanos;
    if (telemetry.metrics) {
      Attributes attrs = failure == null ? attributes.metric : withError(attributes.metric, failure);
      telemetry.duration.record(nanos / 1e9, attrs);
    }
    if (span != null) {
      if (failure != null) {
        span.setAttribute(ERROR, failure.errorType());
        if (failure.statusCode() != null) {
          span.setAttribute(STATUS, failure.statusCode());
        }
        span.setStatus(StatusCode.ERROR, describe(failure));
      }
      span.end();
    }
  }

  public boolean isEnded() {
    return ended != 0;
  }

  /** Updates the batch size when it is only known at the end (pipelines). */
  public void setBatchSize(int size) {
    if (span != null) {
      span.setAttribute(BATCH_SIZE, (long) size);
    }
  }

  private static Attributes withError(Attributes base, Failure failure) {
    AttributesBuilder b = base.toBuilder().put(ERROR, failure.errorType());
    if (failure.statusCode() != null) {
      b.put(STATUS, failure.statusCode());
    }
    return b.build();
  }

  private static String describe(Failure failure) {
    Throwable t = failure.cause();
    String msg = t == null ? null : t.getMessage();
    if (msg == null) {
      return failure.errorType();
    }
    return msg.length() > 200 ? msg.substring(0, 200) + "..." : msg;
  }
}
