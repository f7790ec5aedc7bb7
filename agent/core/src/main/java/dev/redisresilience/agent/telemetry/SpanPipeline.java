package dev.redisresilience.agent.telemetry;

import dev.redisresilience.agent.AgentLog;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.concurrent.locks.LockSupport;

/**
 * The agent's own span batching, in place of the SDK's span builder and batch processor: an
 * ended operation is one small immutable record handed to a lock-free queue; everything that
 * costs (ids as hex, attribute maps, OTLP encoding) happens on the export thread. Exports through
 * the exporter the SDK configured from OTEL_* settings, with the SDK's resource, and keeps the
 * batch processor's semantics: bounded queue (drops when full, counted), batches of at most
 * {@code maxBatch}, exported every {@code delay} or as soon as a batch is full. When the
 * application left the batch size at its default, a backlog of two batches or more goes out in
 * larger batches (up to four, within the queue): fewer requests exactly when the collector is
 * slower than the application, instead of drops.
 *
 * <p>Unlike the batch processor, up to {@link #MAX_IN_FLIGHT} OTLP requests may be in flight at
 * once: one request at a time is a round trip per batch, and at tens of thousands of operations
 * a second the queue fills during that round trip (measured: 45-65% of spans dropped at 50-70k
 * commands/s on a 2-core host; with 4 in flight, under 0.5%). Requests are independent byte
 * arrays, and the SDK's OTLP senders are asynchronous. Any other exporter is called one export at
 * a time, as the SpanExporter contract requires.
 */
public final class SpanPipeline {
  static final int MAX_IN_FLIGHT = 4;

  private final List<SpanSink> sinks = new ArrayList<>();
  private final List<SpanExporter> exporters;
  private final OtlpSpanEncoder encoder = new OtlpSpanEncoder();
  /** Encoded-request buffers of completed exports, for the next ones (at most one per slot + 1). */
  private final ConcurrentLinkedQueue<OtlpSpanEncoder.ProtoBuffer> requestBuffers = new ConcurrentLinkedQueue<>();
  /** Larger buffers (a batch of unusually large spans) are left to the garbage collector. */
  private static final int MAX_REUSED_BUFFER = 1 << 20;
  private final Resource resource;
  private final Sampler sampler; // null: keep every root span (always_on, parentbased_always_on)
  private final ChildSampling childSampling;
  private final Sampler childSampler; // for ChildSampling.ASK
  private final boolean synchronous;
  private final int maxQueue;
  private final int maxBatch;
  private final int batchCeiling;
  private final long delayNanos;
  private final long exportTimeoutNanos;
  private final int maxInFlight;
  private final Semaphore inFlight;
  private final SpanRing<RecordedSpan> queue;
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicLong dropped = new AtomicLong();
  private final Thread worker;
  private boolean exemplars; // set once before the pipeline is handed to Telemetry.install
  // telemetry.spans.sampling=interesting: decides in place of the sampler; null: the sampler does
  private volatile InterestingSpans interesting;
  private volatile boolean running = true;
  private volatile boolean flushRequested;
  /** The worker while it parks for the next batch; taken (set null) by the producer that wakes it. */
  private volatile Thread waiting;
  private static final AtomicReferenceFieldUpdater<SpanPipeline, Thread> WAITING =
      AtomicReferenceFieldUpdater.newUpdater(SpanPipeline.class, Thread.class, "waiting");
  private long lastDropReport;
  private long droppedReported; // dropped.get() when drops were last logged

  public SpanPipeline(
      List<SpanExporter> exporters,
      Resource resource,
      Sampler sampler,
      int maxQueue,
      int maxBatch,
      long delayNanos,
      long exportTimeoutNanos) {
    this(exporters, resource, sampler, maxQueue, maxBatch, maxBatch, delayNanos, exportTimeoutNanos, false);
  }

  /**
   * As above, with batches of up to {@code batchCeiling} spans (at least {@code maxBatch}, at most
   * the queue) while a backlog of two batches or more waits: fewer, larger requests exactly when
   * the collector is slower than the application. For a batch size the application did not set.
   */
  public SpanPipeline(
      List<SpanExporter> exporters,
      Resource resource,
      Sampler sampler,
      int maxQueue,
      int maxBatch,
      int batchCeiling,
      long delayNanos,
      long exportTimeoutNanos) {
    this(exporters, resource, sampler, maxQueue, maxBatch, batchCeiling, delayNanos, exportTimeoutNanos, false);
  }

  private SpanPipeline(
      List<SpanExporter> exporters,
      Resource resource,
      Sampler sampler,
      int maxQueue,
      int maxBatch,
      int batchCeiling,
      long delayNanos,
      long exportTimeoutNanos,
      boolean synchronous) {
    this.exporters = new ArrayList<>(exporters);
    boolean allEncoded = true;
    for (SpanExporter e : exporters) {
      SpanSink sink = synchronous ? SpanSink.generic(e) : SpanSink.of(e);
      sinks.add(sink);
      allEncoded &= sink.encoded();
    }
    this.maxInFlight = allEncoded && !synchronous ? MAX_IN_FLIGHT : 1;
    this.inFlight = new Semaphore(maxInFlight);
    this.resource = resource;
    this.sampler = keepsEverything(sampler) ? null : sampler;
    this.childSampling = ChildSampling.of(sampler);
    this.childSampler = sampler;
    // the synchronous mode never queues; a queue above the ring's capacity is cut to it
    this.queue = new SpanRing<>(synchronous ? 2 : Math.max(1, maxQueue));
    if (!synchronous && maxQueue > SpanRing.MAX_CAPACITY) {
      AgentLog.warn("otel.bsp.max.queue.size=" + maxQueue + " is above the span queue's "
          + SpanRing.MAX_CAPACITY + " slots; using " + SpanRing.MAX_CAPACITY);
    }
    this.maxQueue = Math.max(1, Math.min(maxQueue, SpanRing.MAX_CAPACITY));
    this.maxBatch = Math.max(1, Math.min(maxBatch, this.maxQueue));
    this.batchCeiling = Math.max(this.maxBatch, Math.min(batchCeiling, this.maxQueue));
    this.delayNanos = delayNanos;
    this.exportTimeoutNanos = exportTimeoutNanos;
    this.synchronous = synchronous;
    this.worker = new Thread(this::run, "redis-resilience-agent-span-export");
    this.worker.setDaemon(true);
    if (!synchronous) {
      this.worker.start();
    }
  }

  /** Exports each span as it ends, on the ending thread: for tests. */
  public static SpanPipeline synchronous(SpanExporter exporter, Resource resource) {
    return new SpanPipeline(
        java.util.Collections.singletonList(exporter), resource, null, 1, 1, 1, 0, 0, true);
  }

  private static boolean keepsEverything(Sampler s) {
    if (s == null) {
      return true;
    }
    String d = s.getDescription();
    // for a span without a parent, a parent-based sampler decides by its root sampler
    return d.equals("AlwaysOnSampler") || d.startsWith("ParentBased{root:AlwaysOnSampler,");
  }

  /** Whether the configured sampler keeps a span with this trace id (always true by default). */
  boolean sampled(long traceIdHigh, long traceIdLow, String name, io.opentelemetry.api.common.Attributes attrs) {
    Sampler s = sampler;
    if (s == null) {
      return true;
    }
    return s.shouldSample(
                io.opentelemetry.context.Context.root(),
                io.opentelemetry.api.trace.TraceId.fromLongs(traceIdHigh, traceIdLow),
                name,
                io.opentelemetry.api.trace.SpanKind.CLIENT,
                attrs,
                java.util.Collections.emptyList())
            .getDecision()
        == io.opentelemetry.sdk.trace.samplers.SamplingDecision.RECORD_AND_SAMPLE;
  }

  /**
   * Whether the configured sampler keeps a child of the application's span {@code parentSpanId}
   * (flags as {@link ParentContext} read them). With the default (parentbased_*), exactly when the
   * parent is sampled; no allocation unless the sampler is one the agent has to ask.
   */
  boolean sampledChild(
      long traceIdHigh,
      long traceIdLow,
      long parentSpanId,
      int parentFlags,
      String name,
      io.opentelemetry.api.common.Attributes attrs) {
    switch (childSampling) {
      case KEEP:
        return true;
      case FOLLOW_PARENT:
        return (parentFlags & RecordedSpan.SAMPLED) != 0;
      default:
        String traceId = io.opentelemetry.api.trace.TraceId.fromLongs(traceIdHigh, traceIdLow);
        String spanId = io.opentelemetry.api.trace.SpanId.fromLong(parentSpanId);
        io.opentelemetry.api.trace.TraceFlags f =
            io.opentelemetry.api.trace.TraceFlags.fromByte((byte) parentFlags);
        io.opentelemetry.api.trace.TraceState state = io.opentelemetry.api.trace.TraceState.getDefault();
        io.opentelemetry.api.trace.SpanContext parent =
            (parentFlags & ParentContext.PARENT_REMOTE) != 0
                ? io.opentelemetry.api.trace.SpanContext.createFromRemoteParent(traceId, spanId, f, state)
                : io.opentelemetry.api.trace.SpanContext.create(traceId, spanId, f, state);
        return childSampler
                .shouldSample(
                    io.opentelemetry.context.Context.root()
                        .with(io.opentelemetry.api.trace.Span.wrap(parent)),
                    traceId,
                    name,
                    io.opentelemetry.api.trace.SpanKind.CLIENT,
                    attrs,
                    java.util.Collections.emptyList())
                .getDecision()
            == io.opentelemetry.sdk.trace.samplers.SamplingDecision.RECORD_AND_SAMPLE;
    }
  }

  /** How the configured sampler decides for a span with a parent, without asking it each time. */
  enum ChildSampling {
    /** always_on: every span, whatever the parent says. */
    KEEP,
    /** parentbased_* with the default parent rules: a child is sampled iff its parent is. */
    FOLLOW_PARENT,
    /** anything else (always_off, a bare ratio sampler, a custom one): ask the sampler. */
    ASK;

    static ChildSampling of(Sampler s) {
      if (s == null) {
        return FOLLOW_PARENT; // the SDK's default: parentbased_always_on
      }
      String d = s.getDescription();
      if (d.equals(Sampler.alwaysOn().getDescription())) {
        return KEEP;
      }
      // the parent rules of parentbased_always_on, whatever the root sampler is
      String reference = Sampler.parentBased(Sampler.alwaysOn()).getDescription();
      String root = "root:" + Sampler.alwaysOn().getDescription();
      int at = reference.indexOf(root);
      if (at > 0) {
        String prefix = reference.substring(0, at + "root:".length());
        String parentRules = reference.substring(at + root.length());
        if (d.startsWith(prefix) && d.endsWith(parentRules)) {
          return FOLLOW_PARENT;
        }
      }
      return ASK;
    }
  }

  /**
   * Whether the duration histogram gets the span's context, for exemplars (an exemplar filter other
   * than always_off is configured). Call before {@link Telemetry#install}.
   */
  public SpanPipeline exemplars(boolean on) {
    exemplars = on;
    return this;
  }

  boolean exemplars() {
    return exemplars;
  }

  /**
   * Keeps spans by {@link InterestingSpans} (telemetry.spans.sampling=interesting) in place of the
   * configured sampler; null: the sampler decides, as by default.
   */
  public SpanPipeline interesting(InterestingSpans decision) {
    interesting = decision;
    return this;
  }

  /** The end-of-operation decision, or null when the configured sampler decides. */
  public InterestingSpans interesting() {
    return interesting;
  }

  Resource resource() {
    return resource;
  }

  /** Hands an ended span to the export thread; drops it (counted) when the queue is full. */
  void submit(RecordedSpan span) {
    if (synchronous) {
      export(new ArrayList<>(java.util.Collections.singletonList(span)));
      return;
    }
    if (queued.incrementAndGet() > maxQueue) {
      queued.decrementAndGet();
      dropped.incrementAndGet();
      return;
    }
    if (!queue.offer(span)) { // not while queued <= maxQueue <= capacity: a safety net
      queued.decrementAndGet();
      dropped.incrementAndGet();
      return;
    }
    if (queued.get() >= maxBatch) {
      Thread w = waiting;
      // one producer wakes the parked worker; the others see null (an unpark per span while it
      // wakes up was a futex call on 8 application threads)
      if (w != null && WAITING.compareAndSet(this, w, null)) {
        LockSupport.unpark(w);
      }
    }
  }

  private void run() {
    List<RecordedSpan> batch = new ArrayList<>(maxBatch);
    long next = System.nanoTime() + delayNanos;
    while (running || !queue.isEmpty()) {
      long now = System.nanoTime();
      if (queued.get() < maxBatch && now < next && !flushRequested && running) {
        waiting = worker;
        if (queued.get() < maxBatch && !flushRequested && running) {
          LockSupport.parkNanos(this, next - now);
        }
        waiting = null;
        continue;
      }
      boolean flushing = flushRequested;
      while (true) {
        // the request slot first, then the batch: what arrives while every slot is busy goes out
        // in the next request rather than waiting in the queue for one more round trip
        boolean permit = acquirePermit();
        drain(batch, batchLimit());
        if (batch.isEmpty()) {
          if (permit) {
            inFlight.release();
          }
          break;
        }
        export(batch, permit);
        if (!flushing && queued.get() < maxBatch) {
          break;
        }
      }
      if (flushing) {
        awaitExports();
        flushRequested = false;
        synchronized (this) {
          notifyAll();
        }
      }
      reportDrops(false);
      next = System.nanoTime() + delayNanos;
    }
  }

  /** {@code maxBatch}, or up to {@code batchCeiling} while two batches or more are queued. */
  private int batchLimit() {
    int backlog = queued.get();
    return backlog >= 2 * maxBatch ? Math.min(batchCeiling, backlog) : maxBatch;
  }

  private void drain(List<RecordedSpan> batch, int limit) {
    RecordedSpan s;
    while (batch.size() < limit && (s = queue.poll()) != null) {
      queued.decrementAndGet();
      batch.add(s);
    }
  }

  /**
   * One of the {@code maxInFlight} request slots; false when none freed within the export timeout
   * (an export that never completes is given up on then, as the batch processor does).
   */
  private boolean acquirePermit() {
    try {
      return inFlight.tryAcquire(exportTimeoutNanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private void export(List<RecordedSpan> batch) {
    export(batch, acquirePermit());
  }

  private void export(List<RecordedSpan> batch, boolean permit) {
    try {
      OtlpSpanEncoder.ProtoBuffer[] request = {null};
      SpanSink.Encoded encoded =
          () -> {
            if (request[0] == null) {
              OtlpSpanEncoder.ProtoBuffer b = requestBuffers.poll();
              request[0] = b != null ? b : new OtlpSpanEncoder.ProtoBuffer(1 << 16);
              encoder.encode(batch, request[0]);
            }
            return new SpanSink.EncodedRequest(request[0].array(), request[0].size());
          };
      List<CompletableResultCode> results = new ArrayList<>(sinks.size());
      for (SpanSink sink : sinks) {
        try {
          results.add(ExportHealth.track(sink.export(batch, encoded), ExportHealth.SPANS));
        } catch (RuntimeException e) {
          AgentFaults.record(e);
        }
      }
      CompletableResultCode all =
          results.size() == 1 ? results.get(0) : CompletableResultCode.ofAll(results);
      boolean slot = permit;
      permit = false; // released when the export completes
      all.whenComplete(
          () -> {
            if (slot) {
              inFlight.release();
            }
            // the request buffer is reused only once no sender can still be writing from it
            OtlpSpanEncoder.ProtoBuffer b = request[0];
            if (b != null && b.capacity() <= MAX_REUSED_BUFFER && requestBuffers.size() <= maxInFlight) {
              requestBuffers.offer(b);
            }
          });
      if (maxInFlight == 1) {
        all.join(exportTimeoutNanos, TimeUnit.NANOSECONDS);
      }
    } catch (RuntimeException e) {
      AgentFaults.record(e);
    } finally {
      if (permit) {
        inFlight.release();
      }
      batch.clear(); // requests are encoded (or copied, for other exporters) by now
    }
  }

  /** Waits until no export is in flight, at most the export timeout. */
  private void awaitExports() {
    try {
      if (inFlight.tryAcquire(maxInFlight, exportTimeoutNanos, TimeUnit.NANOSECONDS)) {
        inFlight.release(maxInFlight);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Logs spans dropped since the last log line, at most once a minute unless {@code force}. */
  private synchronized void reportDrops(boolean force) {
    long total = dropped.get();
    long t = System.nanoTime();
    if (total > droppedReported
        && (force || lastDropReport == 0 || t - lastDropReport > TimeUnit.MINUTES.toNanos(1))) {
      lastDropReport = t;
      long d = total - droppedReported;
      droppedReported = total;
      AgentLog.warn(
          "telemetry: "
              + d
              + " span(s) dropped since the last report: the export queue (" + maxQueue
              + ", otel.bsp.max.queue.size) was full");
    }
  }

  /** Exports everything queued so far; waits at most {@code timeoutMillis}. */
  public void flush(long timeoutMillis) {
    if (synchronous || !worker.isAlive()) {
      return;
    }
    flushRequested = true;
    LockSupport.unpark(worker);
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    synchronized (this) {
      while (flushRequested && System.nanoTime() < deadline) {
        try {
          wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** The last flush, then the exporters' own shutdown (their senders' threads), all bounded. */
  public void shutdown(long timeoutMillis) {
    long end = System.nanoTime() + timeoutMillis * 1_000_000L;
    flush(timeoutMillis);
    running = false;
    LockSupport.unpark(worker);
    reportDrops(true); // what the last minute dropped would otherwise never be told
    for (SpanExporter e : exporters) {
      long left = Math.max(1, (end - System.nanoTime()) / 1_000_000L);
      try {
        e.shutdown().join(left, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (RuntimeException failed) {
        AgentFaults.record(failed); // the next exporter, and the SDK's own shutdown, still run
      }
    }
  }

  /** Spans dropped since start because the queue was full. */
  public long dropped() {
    return dropped.get();
  }
}
