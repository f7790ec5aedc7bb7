package dev.redisresilience.agent.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * The agent's own OTLP span encoding must decode to exactly what the SDK's marshaler writes for
 * the same spans (attribute order aside), and must reach a collector through the OTLP exporter's
 * own transport with its settings (here: gzip) intact.
 */
class OtlpSpanEncoderTest {
  private static final Resource RESOURCE =
      Resource.getDefault()
          .merge(
              Resource.create(
                  Attributes.of(
                      AttributeKey.stringKey("service.name"), "encoder-test",
                      AttributeKey.longKey("answer"), 42L,
                      AttributeKey.stringArrayKey("tags"), Arrays.asList("a", "b")),
                  "https://opentelemetry.io/schemas/1.24.0"));
  private static final InstrumentationScopeInfo JEDIS =
      InstrumentationScopeInfo.builder("dev.redisresilience.agent.jedis").setVersion("1.2.3").build();
  private static final InstrumentationScopeInfo LETTUCE =
      InstrumentationScopeInfo.builder("dev.redisresilience.agent.lettuce")
          .setSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
          .build();
  private static final Attributes BASE =
      Attributes.builder()
          .put("db.system.name", "redis")
          .put("server.address", "127.0.0.1")
          .put("server.port", 6379L)
          .put("db.namespace", "0")
          .put("db.operation.name", "GET")
          .build();

  private static RecordedSpan span(
      InstrumentationScopeInfo scope,
      String query,
      int batch,
      int attempts,
      String error,
      String status,
      String description,
      List<EventData> events) {
    return new RecordedSpan(
        "GET 127.0.0.1:6379",
        0x0123456789abcdefL,
        0xfedcba9876543210L,
        0x1122334455667788L,
        1_700_000_000_123_456_789L,
        1_700_000_000_223_456_789L,
        BASE,
        query,
        batch,
        attempts,
        error,
        status,
        description,
        events,
        scope,
        RESOURCE);
  }

  private static RecordedSpan child(InstrumentationScopeInfo scope, long parentSpanId, int parentFlags) {
    return new RecordedSpan(
        "SET 127.0.0.1:6379",
        0x0af7651916cd43ddL,
        0x8448eb211c80319cL,
        0x2233445566778899L,
        parentSpanId,
        parentFlags,
        1_700_000_001_000_000_000L,
        1_700_000_001_000_500_000L,
        BASE,
        null,
        -1,
        1,
        null,
        null,
        null,
        null,
        scope,
        RESOURCE);
  }

  @Test
  void childSpansCarryTheParentAndItsTraceFlags() throws Exception {
    List<RecordedSpan> spans = batch();
    ExportTraceServiceRequest r = ExportTraceServiceRequest.parseFrom(new OtlpSpanEncoder().encode(spans));
    List<Span> decoded = new ArrayList<>();
    r.getResourceSpans(0).getScopeSpansList().forEach(ss -> decoded.addAll(ss.getSpansList()));
    Span local = decoded.stream().filter(x -> x.getParentSpanId().size() == 8 && x.getFlags() == 0x101).findFirst().orElseThrow();
    Span remote = decoded.stream().filter(x -> x.getFlags() == 0x303).findFirst().orElseThrow();
    assertThat(local.getParentSpanId().toByteArray())
        .containsExactly(0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44);
    assertThat(remote.getParentSpanId().toByteArray())
        .containsExactly(0x55, 0x55, 0x66, 0x66, 0x77, 0x77, 0x88, (byte) 0x88);
    assertThat(local.getTraceId().toByteArray())
        .containsExactly(0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c);
    // roots: no parent field at all, the SDK's root flags
    assertThat(decoded.stream().filter(x -> x.getParentSpanId().isEmpty()).map(Span::getFlags))
        .hasSize(4)
        .containsOnly(0x101);
  }

  private static List<RecordedSpan> batch() {
    List<EventData> events =
        Arrays.asList(
            EventData.create(
                1_700_000_000_150_000_000L,
                "redis.retry",
                Attributes.of(
                    AttributeKey.longKey("redis.retry.attempt"), 2L,
                    AttributeKey.doubleKey("redis.retry.backoff"), 0.125,
                    AttributeKey.booleanKey("flag"), true)),
            EventData.create(1_700_000_000_160_000_000L, "no-attributes", Attributes.empty()));
    List<RecordedSpan> spans = new ArrayList<>();
    spans.add(span(JEDIS, "GET ?", -1, 1, null, null, null, null));
    spans.add(span(LETTUCE, "SET ? ? — ünïcödé 键", -1, 3, "READONLY", "READONLY", "READONLY You can't write against a read only replica.", events));
    spans.add(span(JEDIS, null, 600_000, 1, "java.net.SocketTimeoutException", null, null, null));
    spans.add(span(JEDIS, "x".repeat(20_000), 0, 2, "timeout", null, "", null));
    // children of an application span: a local sampled parent, a remote one with the random flag
    spans.add(child(JEDIS, 0x1111222233334444L, 0x01));
    spans.add(child(LETTUCE, 0x5555666677778888L, 0x03 | ParentContext.PARENT_REMOTE));
    return spans;
  }

  @Test
  void decodesToWhatTheSdkMarshalerWrites() throws Exception {
    List<RecordedSpan> spans = batch();
    byte[] ours = new OtlpSpanEncoder().encode(spans);
    ByteArrayOutputStream sdk = new ByteArrayOutputStream();
    TraceRequestMarshaler.create(new ArrayList<SpanData>(spans)).writeBinaryTo(sdk);

    ExportTraceServiceRequest a = normalized(ExportTraceServiceRequest.parseFrom(ours));
    ExportTraceServiceRequest b = normalized(ExportTraceServiceRequest.parseFrom(sdk.toByteArray()));
    assertThat(a.getResourceSpansCount()).isEqualTo(1);
    assertThat(a.getResourceSpans(0).getScopeSpansCount()).isEqualTo(2);
    assertThat(a.getResourceSpans(0).getScopeSpans(0).getSpansCount()).isEqualTo(4);
    assertThat(a).isEqualTo(b);
  }

  @Test
  void reusesItsBuffersAcrossBatches() throws Exception {
    OtlpSpanEncoder encoder = new OtlpSpanEncoder();
    List<RecordedSpan> spans = batch();
    byte[] first = encoder.encode(spans);
    encoder.encode(spans.subList(0, 1));
    byte[] again = encoder.encode(spans);
    assertThat(again).isEqualTo(first);
    assertThat(encoder.encode(new ArrayList<>())).isEmpty();
  }

  @Test
  void otlpExportersInProtobufFormGetEncodedBatchesOthersSpanData() {
    OtlpHttpSpanExporter http = OtlpHttpSpanExporter.builder().build();
    OtlpGrpcSpanExporter grpc = OtlpGrpcSpanExporter.builder().build();
    try {
      assertThat(SpanSink.of(http).encoded()).isTrue();
      assertThat(SpanSink.of(grpc).encoded()).isTrue();
      assertThat(SpanSink.generic(http).encoded()).isFalse();
      assertThat(SpanSink.of(io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter.create()).encoded())
          .isFalse();
    } finally {
      http.shutdown();
      grpc.shutdown();
    }
  }

  @Test
  void reachesACollectorThroughTheExportersTransport() throws Exception {
    BlockingQueue<byte[]> bodies = new ArrayBlockingQueue<>(4);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/v1/traces",
        ex -> {
          try (InputStream in =
              "gzip".equals(ex.getRequestHeaders().getFirst("Content-Encoding"))
                  ? new GZIPInputStream(ex.getRequestBody())
                  : ex.getRequestBody()) {
            bodies.add(in.readAllBytes());
          }
          ex.getResponseHeaders().add("Content-Type", "application/x-protobuf");
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    server.start();
    OtlpHttpSpanExporter exporter =
        OtlpHttpSpanExporter.builder()
            .setEndpoint("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/traces")
            .setCompression("gzip")
            .addHeader("x-tenant", "t1")
            .build();
    try {
      SpanSink sink = SpanSink.of(exporter);
      assertThat(sink.encoded()).isTrue();
      List<RecordedSpan> spans = batch();
      byte[] encoded = new OtlpSpanEncoder().encode(spans);
      CompletableResultCode r = sink.export(spans, () -> new SpanSink.EncodedRequest(encoded));
      r.join(10, TimeUnit.SECONDS);
      assertThat(r.isSuccess()).isTrue();
      byte[] body = bodies.poll(10, TimeUnit.SECONDS);
      assertThat(body).isEqualTo(encoded);
      Span first = ExportTraceServiceRequest.parseFrom(body).getResourceSpans(0).getScopeSpans(0).getSpans(0);
      assertThat(first.getName()).isEqualTo("GET 127.0.0.1:6379");
    } finally {
      exporter.shutdown();
      server.stop(0);
    }
  }

  /**
   * Scopes sorted by name and attributes by key, so that order does not count (the SDK groups
   * spans by scope in a hash map).
   */
  private static ExportTraceServiceRequest normalized(ExportTraceServiceRequest r) {
    ExportTraceServiceRequest.Builder b = r.toBuilder();
    for (ResourceSpans.Builder rs : b.getResourceSpansBuilderList()) {
      List<ScopeSpans> scopes = new ArrayList<>(rs.getScopeSpansList());
      scopes.sort(Comparator.comparing(ss -> ss.getScope().getName()));
      rs.clearScopeSpans().addAllScopeSpans(scopes);
      for (ScopeSpans.Builder ss : rs.getScopeSpansBuilderList()) {
        for (Span.Builder s : ss.getSpansBuilderList()) {
          List<KeyValue> kv = new ArrayList<>(s.getAttributesList());
          kv.sort(Comparator.comparing(KeyValue::getKey));
          s.clearAttributes().addAllAttributes(kv);
        }
      }
    }
    return b.build();
  }
}
