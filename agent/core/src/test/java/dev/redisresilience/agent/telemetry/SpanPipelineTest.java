package dev.redisresilience.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.Collections;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The export queue: bounded, never blocking the caller, drops counted. */
class SpanPipelineTest {
  private static final InstrumentationScopeInfo SCOPE = InstrumentationScopeInfo.create("test");

  private static RecordedSpan span(int i) {
    return new RecordedSpan("GET 127.0.0.1:6379", 1, i + 1, i + 1, 1_000, 2_000,
        Attributes.empty(), null, 0, 1, null, null, null, Collections.emptyList(), SCOPE,
        Resource.empty());
  }

  /** Blocks in its first export until released, counting what it receives. */
  static final class StalledExporter implements SpanExporter {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicInteger exported = new AtomicInteger();

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      entered.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      exported.addAndGet(spans.size());
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  @Test
  void aFullQueueDropsAndCountsInsteadOfBlocking() throws Exception {
    StalledExporter exporter = new StalledExporter();
    SpanPipeline p = new SpanPipeline(Collections.singletonList(exporter), Resource.empty(), null,
        4, 2, TimeUnit.MILLISECONDS.toNanos(10), TimeUnit.SECONDS.toNanos(10));
    p.submit(span(0));
    p.submit(span(1)); // a full batch: the worker takes both and stalls in the exporter
    assertThat(exporter.entered.await(5, TimeUnit.SECONDS)).isTrue();
    for (int i = 2; i < 12; i++) {
      p.submit(span(i)); // 4 fit in the queue, 6 do not
    }
    assertThat(exporter.exported.get()).isZero(); // the submits returned while export was stuck
    assertThat(p.dropped()).isEqualTo(6);
    exporter.release.countDown();
    p.shutdown(5000);
    assertThat(exporter.exported.get()).isEqualTo(6); // the 2 of the stalled batch + the 4 queued
    assertThat(p.dropped()).isEqualTo(6); // a total: logging the drops does not reset it
  }

  /** Records the size of every export; the first one waits until released. */
  static final class BatchSizes implements SpanExporter {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final java.util.List<Integer> sizes = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      entered.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      sizes.add(spans.size());
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }

  static java.util.List<Integer> batchesAfterABacklog(int maxBatch, int ceiling) throws Exception {
    BatchSizes exporter = new BatchSizes();
    SpanPipeline p = new SpanPipeline(Collections.singletonList(exporter), Resource.empty(), null,
        100, maxBatch, ceiling, TimeUnit.SECONDS.toNanos(10), TimeUnit.SECONDS.toNanos(10));
    for (int i = 0; i < 5; i++) {
      p.submit(span(i)); // a full batch: the worker takes it and waits in the exporter
    }
    assertThat(exporter.entered.await(5, TimeUnit.SECONDS)).isTrue();
    for (int i = 5; i < 45; i++) {
      p.submit(span(i)); // the backlog: 40 spans, 8 batches of 5
    }
    exporter.release.countDown();
    p.shutdown(5000);
    assertThat(p.dropped()).isZero();
    return exporter.sizes;
  }

  @Test
  void aBacklogGoesOutInLargerBatchesUpToTheCeiling() throws Exception {
    // two batches or more waiting: up to the ceiling; the rest in batches of maxBatch
    assertThat(batchesAfterABacklog(5, 20)).containsExactly(5, 20, 20);
  }

  @Test
  void aBatchSizeTheApplicationSetIsAHardBound() throws Exception {
    assertThat(batchesAfterABacklog(5, 5)).containsExactly(5, 5, 5, 5, 5, 5, 5, 5, 5);
  }

  @Test
  void otlpRequestsOverlapUpToTheLimitAndFlushWaitsForThem() throws Exception {
    AtomicInteger active = new AtomicInteger();
    AtomicInteger maxActive = new AtomicInteger();
    AtomicInteger received = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    java.util.concurrent.ExecutorService handlers = Executors.newCachedThreadPool();
    server.setExecutor(handlers);
    server.createContext("/v1/traces", ex -> {
      int now = active.incrementAndGet();
      maxActive.accumulateAndGet(now, Math::max);
      try (InputStream in = ex.getRequestBody()) {
        int n = ExportTraceServiceRequest.parseFrom(in.readAllBytes())
            .getResourceSpans(0).getScopeSpans(0).getSpansCount();
        release.await(10, TimeUnit.SECONDS); // a slow collector: every request waits
        received.addAndGet(n);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        active.decrementAndGet();
      }
      ex.getResponseHeaders().add("Content-Type", "application/x-protobuf");
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    server.start();
    OtlpHttpSpanExporter exporter = OtlpHttpSpanExporter.builder()
        .setEndpoint("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/traces")
        .build();
    SpanPipeline p = new SpanPipeline(Collections.singletonList(exporter), Resource.empty(), null,
        100, 1, TimeUnit.MILLISECONDS.toNanos(1), TimeUnit.SECONDS.toNanos(10));
    try {
      for (int i = 0; i < 6; i++) {
        p.submit(span(i)); // batches of one: six requests
      }
      for (int i = 0; i < 500 && active.get() < SpanPipeline.MAX_IN_FLIGHT; i++) {
        Thread.sleep(10);
      }
      Thread.sleep(200); // room for a fifth request, which must not come
      assertThat(active.get()).isEqualTo(SpanPipeline.MAX_IN_FLIGHT);
      release.countDown();
      p.flush(10_000); // returns once every request has been answered
      assertThat(received.get()).isEqualTo(6);
      assertThat(maxActive.get()).isEqualTo(SpanPipeline.MAX_IN_FLIGHT);
      assertThat(p.dropped()).isZero();
    } finally {
      release.countDown();
      p.shutdown(1000);
      exporter.shutdown();
      server.stop(0);
      handlers.shutdownNow();
    }
  }
}
