package dev.redisresilience.agent.telemetry;

import static dev.redisresilience.agent.telemetry.TelemetryNames.DB_OPERATION_BATCH_SIZE;
import static dev.redisresilience.agent.telemetry.TelemetryNames.DB_OPERATION_NAME;
import static dev.redisresilience.agent.telemetry.TelemetryNames.DB_QUERY_TEXT;
import static dev.redisresilience.agent.telemetry.TelemetryNames.DB_RESPONSE_STATUS_CODE;
import static dev.redisresilience.agent.telemetry.TelemetryNames.DB_SYSTEM_NAME;
import static dev.redisresilience.agent.telemetry.TelemetryNames.DB_SYSTEM_VALUE;
import static dev.redisresilience.agent.telemetry.TelemetryNames.ERROR_TYPE;

import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.Failure;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import java.util.concurrent.TimeUnit;

/**
 * One logical Redis operation: one span covering every attempt and one duration measurement.
 *
 * <p>The server is often known only after the operation started (a pool or cluster picks the
 * connection; Lettuce writes on the event loop), so the endpoint is bound later with {@link
 * #bind(Endpoint)} and the span is created then, with the operation's real start time. Ends
 * exactly once, from whichever thread completes the command.
 */
public final class Operation {
  static final AttributeKey<String> QUERY_TEXT = AttributeKey.stringKey(DB_QUERY_TEXT);
  static final AttributeKey<Long> BATCH_SIZE = AttributeKey.longKey(DB_OPERATION_BATCH_SIZE);
  static final AttributeKey<String> ERROR = AttributeKey.stringKey(ERROR_TYPE);
  static final AttributeKey<String> STATUS = AttributeKey.stringKey(DB_RESPONSE_STATUS_CODE);
  static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey(TelemetryNames.OPERATION_ATTEMPTS);
  static final AttributeKey<Long> RETRY_ATTEMPT = AttributeKey.longKey(TelemetryNames.RETRY_ATTEMPT);
  static final AttributeKey<Double> RETRY_BACKOFF = AttributeKey.doubleKey(TelemetryNames.RETRY_BACKOFF);
  static final AttributeKey<String> RETRY_REFUSAL = AttributeKey.stringKey(TelemetryNames.RETRY_REFUSAL);

  private final ClientTelemetry telemetry;
  private final CommandInfo command; // null for batches
  private final String operationName;
  private final String queryText;
  private final long startNanos;
  private final long startEpochNanos;
  private int batchSize;
  private Endpoint endpoint;
  private Endpoint.OpAttributes attributes;
  private Span span;
  private boolean ended;
  private int attempts;

  Operation(
      ClientTelemetry telemetry,
      CommandInfo command,
      String operationName,
      String queryText,
      int batchSize) {
    this.telemetry = telemetry;
    this.command = command;
    this.operationName = operationName;
    this.queryText = queryText;
    this.batchSize = batchSize;
    this.startNanos = System.nanoTime();
    this.startEpochNanos = telemetry.spans ? telemetry.clock.now() : 0;
  }

  public CommandInfo command() {
    return command;
  }

  public String operationName() {
    return operationName;
  }

  /** The endpoint of the attempt in progress (the last one contacted), or null. */
  public synchronized Endpoint endpoint() {
    return endpoint;
  }

  /**
   * Records which server this operation talks to. The first call creates the span; a later call
   * with another endpoint (a retry on another node, a redirect) updates the peer, because the
   * conventions say network.peer.* is the last node contacted.
   */
  public synchronized void bind(Endpoint e) {
    if (e == null || e == endpoint || ended) {
      return;
    }
    Endpoint.OpAttributes a = command != null ? e.forOperation(command) : e.forBatch(operationName);
    if (span == null && endpoint == null) {
      endpoint = e;
      attributes = a;
      if (telemetry.spans) {
        span = startSpan(a.spanName, a.span);
      }
      return;
    }
    endpoint = e;
    attributes = a;
    if (span != null) {
      span.setAllAttributes(a.span);
    }
  }

  /** Ends the operation; {@code failure} null means success. Later calls are ignored. */
  public void end(Failure failure) {
    long nanos = System.nanoTime() - startNanos;
    Span s;
    Endpoint.OpAttributes a;
    int tries;
    synchronized (this) {
      if (ended) {
        return;
      }
      ended = true;
      a = attributes;
      s = span;
      tries = attempts;
      if (s == null && telemetry.spans) {
        // never reached a server (no connection could be had): still one span, without server
        s = startSpan(operationName, unboundAttributes());
      }
    }
    if (telemetry.metrics) {
      Attributes base = a != null ? a.metric : unboundAttributes();
      telemetry.duration.record(nanos / 1e9, failure == null ? base : withError(base, failure));
    }
    if (s != null) {
      if (batchSize >= 0) {
        s.setAttribute(BATCH_SIZE, (long) batchSize);
      }
      if (tries > 1) {
        s.setAttribute(ATTEMPTS, (long) tries);
      }
      if (failure != null) {
        s.setAttribute(ERROR, failure.errorType());
        if (failure.statusCode() != null) {
          s.setAttribute(STATUS, failure.statusCode());
        }
        s.setStatus(StatusCode.ERROR, describe(failure));
      }
      s.end();
    }
  }

  /** Counts one attempt (the first one included); returns the attempt number. */
  public synchronized int attempt() {
    return ++attempts;
  }

  public synchronized int attempts() {
    return attempts;
  }

  /** A retry is about to happen after {@code failure}: one span event. */
  public void retrying(int nextAttempt, Failure failure, long backoffNanos) {
    Span s;
    synchronized (this) {
      s = span;
    }
    if (s != null) {
      s.addEvent(
          TelemetryNames.EVENT_RETRY,
          Attributes.of(
              RETRY_ATTEMPT, (long) nextAttempt,
              ERROR, failure.errorType(),
              RETRY_BACKOFF, backoffNanos / 1e9));
    }
  }

  /** The agent declined to retry: one span event saying why. */
  public void retryRefused(String reason, Failure failure) {
    Span s;
    synchronized (this) {
      s = span;
    }
    if (s != null) {
      s.addEvent(
          TelemetryNames.EVENT_RETRY_REFUSED,
          Attributes.of(RETRY_REFUSAL, reason, ERROR, failure.errorType()));
    }
  }

  public synchronized boolean isEnded() {
    return ended;
  }

  /** Batches: the number of commands, when it is known only at the end. */
  public synchronized void setBatchSize(int size) {
    batchSize = size;
  }

  private Span startSpan(String name, Attributes attrs) {
    SpanBuilder b =
        telemetry
            .tracer
            .spanBuilder(name)
            .setSpanKind(SpanKind.CLIENT)
            .setNoParent()
            .setStartTimestamp(startEpochNanos, TimeUnit.NANOSECONDS)
            .setAllAttributes(attrs);
    if (queryText != null) {
      b.setAttribute(QUERY_TEXT, queryText);
    }
    return b.startSpan();
  }

  private Attributes unboundAttributes() {
    return Attributes.of(
        AttributeKey.stringKey(DB_SYSTEM_NAME),
        DB_SYSTEM_VALUE,
        AttributeKey.stringKey(DB_OPERATION_NAME),
        operationName);
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
