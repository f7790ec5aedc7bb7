package dev.redisresilience.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.Collections;
import java.util.concurrent.CountDownLatch;
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
}
