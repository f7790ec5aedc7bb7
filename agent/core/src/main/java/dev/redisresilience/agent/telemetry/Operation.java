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
import dev.redisresilience.agent.core.QueryText;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.sdk.trace.data.EventData;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One logical Redis operation: one span covering every attempt and one duration measurement.
 *
 * <p>Starting one costs an allocation (none for a confined one, below) and a clock read. The server is often known only after the
 * operation started (a pool or cluster picks the connection; Lettuce writes on the event loop),
 * so the endpoint is bound later with {@link #bind(Endpoint)}; the span is recorded only when the
 * operation ends, as one record for the export thread ({@link SpanPipeline}). Ends exactly once,
 * from whichever thread completes the command.
 *
 * <p>A <em>confined</em> operation ({@link ClientTelemetry#confinedOperation()}) is used by one
 * thread at a time (a sync Jedis call: started, attempted and ended on the caller's thread) and
 * started again for the next operation once ended ({@link ClientTelemetry#restart}): no
 * allocation and no monitor per operation. Everything the span, the metric and the events of an
 * ended operation need is copied out at {@link #end} (the events list is handed over, never
 * reused), so nothing recorded refers to the object a later operation reuses. Other operations
 * (Lettuce: ended on an event loop, cancelled from anywhere) keep the monitor.
 */
public final class Operation {
  static final AttributeKey<String> QUERY_TEXT = AttributeKey.stringKey(DB_QUERY_TEXT);
  static final AttributeKey<Long> BATCH_SIZE = AttributeKey.longKey(DB_OPERATION_BATCH_SIZE);
  static final AttributeKey<String> ERROR = AttributeKey.stringKey(ERROR_TYPE);
  static final AttributeKey<String> STATUS = AttributeKey.stringKey(DB_RESPONSE_STATUS_CODE);
  static final AttributeKey<Long> ATTEMPTS = AttributeKey.longKey(TelemetryNames.OPERATION_ATTEMPTS);
  static final AttributeKey<Long> RETRY_ATTEMPT = AttributeKey.longKey(TelemetryNames.RETRY_ATTEMPT);
  static final AttributeKey<Double> RETRY_BACKOFF = AttributeKey.doubleKey(TelemetryNames.RETRY_BACKOFF);
  static final AttributeKey<String> MAINT_NOTIFICATION =
      AttributeKey.stringKey(TelemetryNames.MAINT_NOTIFICATION);
  static final AttributeKey<Long> MAINT_SEQ = AttributeKey.longKey(TelemetryNames.MAINT_SEQ);
  static final AttributeKey<String> RETRY_REFUSAL = AttributeKey.stringKey(TelemetryNames.RETRY_REFUSAL);

  private final ClientTelemetry telemetry;
  /** Used by one thread at a time and reused: no monitor (see the class comment). */
  private final boolean confined;
  // not final: a confined operation is started again (restart); others are written once, in the
  // constructor, and handed to other threads through the client's own queues
  private CommandInfo command; // null for batches
  private String operationName;
  private String queryText;
  /** Builds the query text if the span is kept (null: none, or queryText is already built). */
  private QueryText.Source querySource;
  private long startNanos;
  private int batchSize;
  private Endpoint endpoint;
  private Endpoint.OpAttributes attributes;
  private boolean ended;
  private int attempts;
  private List<EventData> events;
  // the application's span current when the operation started (ParentContext); 0: none, a root.
  // Written on the starting thread before the operation is handed to any other thread.
  private long parentTraceHigh;
  private long parentTraceLow;
  private long parentSpanId;
  private int parentFlags; // W3C trace flags | ParentContext.PARENT_REMOTE
  private boolean noSpan; // the OTel Java agent reports this operation's span (OtelAgentRedisSpans)

  Operation(
      ClientTelemetry telemetry,
      CommandInfo command,
      String operationName,
      String queryText,
      int batchSize) {
    this.telemetry = telemetry;
    this.confined = false;
    this.command = command;
    this.operationName = operationName;
    this.queryText = queryText;
    this.batchSize = batchSize;
    this.startNanos = System.nanoTime();
  }

  /** A confined operation, ended until {@link #restart} starts it. */
  Operation(ClientTelemetry telemetry) {
    this.telemetry = telemetry;
    this.confined = true;
    this.ended = true;
  }

  /**
   * Starts a confined operation over, as a new one (on its thread, before anyone else sees it):
   * nothing of the previous operation survives.
   */
  void restart(CommandInfo command, String queryText, QueryText.Source querySource) {
    this.command = command;
    this.operationName = command.name();
    this.queryText = queryText;
    this.querySource = querySource;
    this.batchSize = -1;
    this.endpoint = null;
    this.attributes = null;
    this.attempts = 0;
    this.events = null; // the last one went with its span
    this.parentTraceHigh = 0;
    this.parentTraceLow = 0;
    this.parentSpanId = 0;
    this.parentFlags = 0;
    this.noSpan = false;
    this.startNanos = System.nanoTime();
    this.ended = false;
  }

  /** Builds the query text from {@code source} only if the span is kept (on the starting thread). */
  void deferQueryText(QueryText.Source source) {
    querySource = source;
  }

  /** Whether this operation reports to {@code t} (a reinstalled telemetry makes new ones). */
  public boolean reportsTo(ClientTelemetry t) {
    return telemetry == t;
  }

  /**
   * A confined operation that has ended: its owner may {@link ClientTelemetry#restart} it. Read
   * by its owner, on the thread that ended it (or after a hand-over that orders the two).
   */
  public boolean reusable() {
    return confined && ended;
  }

  public boolean isConfined() {
    return confined;
  }

  /** Makes this operation's span a child of the application's span (see {@link ParentContext}). */
  void parent(long traceIdHigh, long traceIdLow, long spanId, int flags) {
    parentTraceHigh = traceIdHigh;
    parentTraceLow = traceIdLow;
    parentSpanId = spanId;
    parentFlags = flags;
  }

  /** Records no span for this operation (its metrics stay); on the starting thread. */
  void noSpan() {
    noSpan = true;
  }

  /** Whether the span joins an application trace (tests). */
  boolean hasParent() {
    return parentSpanId != 0;
  }

  public CommandInfo command() {
    return command;
  }

  public String operationName() {
    return operationName;
  }

  /** The endpoint of the attempt in progress (the last one contacted), or null. */
  public Endpoint endpoint() {
    if (confined) {
      return endpoint;
    }
    synchronized (this) {
      return endpoint;
    }
  }

  /**
   * Records which server this operation talks to; a later call with another endpoint (a retry on
   * another node, a redirect) replaces it, because the conventions say server and network.peer
   * attributes describe the last node contacted.
   */
  public void bind(Endpoint e) {
    if (confined) {
      doBind(e);
      return;
    }
    synchronized (this) {
      doBind(e);
    }
  }

  private void doBind(Endpoint e) {
    if (e == null || e == endpoint || ended) {
      return;
    }
    endpoint = e;
    attributes = command != null ? e.forOperation(command) : e.forBatch(operationName);
  }

  /** Counts one attempt (the first one included); returns the attempt number. */
  public int attempt() {
    if (confined) {
      return ++attempts;
    }
    synchronized (this) {
      return ++attempts;
    }
  }

  public int attempts() {
    if (confined) {
      return attempts;
    }
    synchronized (this) {
      return attempts;
    }
  }

  /** A retry is about to happen after {@code failure}: one span event. */
  public void retrying(int nextAttempt, Failure failure, long backoffNanos) {
    event(
        TelemetryNames.EVENT_RETRY,
        Attributes.of(
            RETRY_ATTEMPT, (long) nextAttempt, ERROR, failure.errorType(), RETRY_BACKOFF, backoffNanos / 1e9));
  }

  /** The agent declined to retry: one span event saying why. */
  public void retryRefused(String reason, Failure failure) {
    event(TelemetryNames.EVENT_RETRY_REFUSED, Attributes.of(RETRY_REFUSAL, reason, ERROR, failure.errorType()));
  }

  /** A maintenance notification arrived on this operation's connection while it was in flight. */
  public void maintenanceNotified(String notification, long seq) {
    event(
        TelemetryNames.EVENT_MAINT_NOTIFICATION,
        Attributes.of(MAINT_NOTIFICATION, notification, MAINT_SEQ, seq));
  }

  private void event(String name, Attributes attrs) {
    if (!telemetry.spans) {
      return;
    }
    long epoch = telemetry.epochNanos(System.nanoTime());
    if (confined) {
      addEvent(EventData.create(epoch, name, attrs));
      return;
    }
    synchronized (this) {
      addEvent(EventData.create(epoch, name, attrs));
    }
  }

  private void addEvent(EventData e) {
    if (ended) {
      return;
    }
    if (events == null) {
      events = new ArrayList<>(4); // a new list per operation: the span it goes to keeps it
    }
    events.add(e);
  }

  /** Ends the operation; {@code failure} null means success. Later calls are ignored. */
  public void end(Failure failure) {
    long endNanos = System.nanoTime();
    Endpoint.OpAttributes a;
    int tries;
    int batch;
    List<EventData> ev;
    if (confined) {
      if (ended) {
        return;
      }
      ended = true;
      a = attributes;
      tries = attempts;
      batch = batchSize;
      ev = events;
    } else {
      synchronized (this) {
        if (ended) {
          return;
        }
        ended = true;
        a = attributes;
        tries = attempts;
        batch = batchSize;
        ev = events;
      }
    }
    SpanPipeline pipeline = noSpan ? null : telemetry.pipeline;
    String name = null;
    Attributes attrs = null;
    long traceHigh = 0;
    long traceLow = 0;
    long spanId = 0; // 0: no span recorded
    long parent = parentSpanId;
    if (pipeline != null) {
      ThreadLocalRandom r = ThreadLocalRandom.current();
      name = a != null ? a.spanName : operationName;
      attrs = a != null ? a.span : unboundAttributes();
      boolean keep;
      // telemetry.spans.sampling=interesting decides here, now that the outcome is known
      InterestingSpans interesting = pipeline.interesting();
      if (parent != 0) {
        traceHigh = parentTraceHigh;
        traceLow = parentTraceLow;
        // an unsampled parent: no span (the metrics below are recorded regardless)
        keep =
            interesting != null
                ? InterestingSpans.keepChild(parentFlags)
                : pipeline.sampledChild(traceHigh, traceLow, parent, parentFlags, name, attrs);
      } else {
        traceHigh = nonZero(r.nextLong());
        traceLow = r.nextLong();
        keep =
            interesting != null
                ? interesting.keepRoot(failure != null, tries, ev != null, endNanos - startNanos, traceLow)
                : pipeline.sampled(traceHigh, traceLow, name, attrs);
      }
      spanId = keep ? nonZero(r.nextLong()) : 0;
    }
    if (telemetry.metrics) {
      Attributes base = a != null ? a.metric : unboundAttributes();
      double seconds = (endNanos - startNanos) / 1e9;
      Attributes metricAttrs = failure == null ? base : withError(base, failure);
      if (telemetry.exemplars && parent != 0 && spanId != 0) {
        // the exemplar links this measurement to the span, in the application's trace
        telemetry.duration.record(
            seconds, metricAttrs, Exemplars.context(traceHigh, traceLow, spanId, parentFlags));
      } else {
        telemetry.duration.record(seconds, metricAttrs);
      }
    }
    if (spanId != 0) {
      String text = queryText;
      QueryText.Source src = querySource;
      if (text == null && src != null && command != null) {
        text = deferredQueryText(src); // only for a kept span
      }
      pipeline.submit(
          new RecordedSpan(
              name,
              traceHigh,
              traceLow,
              spanId,
              parent,
              parentFlags,
              telemetry.epochNanos(startNanos),
              telemetry.epochNanos(endNanos),
              attrs,
              text,
              batch,
              tries,
              failure == null ? null : failure.errorType(),
              failure == null ? null : failure.statusCode(),
              failure == null ? null : describe(failure),
              ev,
              telemetry.scope,
              pipeline.resource()));
    }
  }

  /** Batches: the number of commands, when it is known only at the end. */
  public void setBatchSize(int size) {
    if (confined) {
      batchSize = size;
      return;
    }
    synchronized (this) {
      batchSize = size;
    }
  }

  /**
   * The text from the client's arguments, read now: a fault there (an application's argument
   * type that throws) is the agent's, counted, and costs only the text, not the span.
   */
  private String deferredQueryText(QueryText.Source src) {
    try {
      return src.queryText(command, telemetry.queryTextMaxLength);
    } catch (RuntimeException | LinkageError e) {
      AgentFaults.record(e);
      return null;
    }
  }

  private static long nonZero(long v) {
    return v == 0 ? 1 : v;
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
