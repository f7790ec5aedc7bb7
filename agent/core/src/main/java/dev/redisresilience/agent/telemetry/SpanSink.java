package dev.redisresilience.agent.telemetry;

import dev.redisresilience.agent.AgentLog;
import io.opentelemetry.exporter.internal.marshal.Marshaler;
import io.opentelemetry.exporter.internal.marshal.Serializer;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.internal.GrpcExporter;
import io.opentelemetry.exporter.otlp.internal.HttpExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.MessageWriter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/**
 * One destination of the span pipeline. For the OTLP exporters in protobuf form (http/protobuf
 * and grpc, the defaults) the batch goes to the exporter's own transport already encoded by
 * {@link OtlpSpanEncoder}; endpoint, headers, TLS, compression, timeouts, retries and the
 * exporter's self-metrics all stay the exporter's. Every other exporter (http/json, console,
 * in-memory, an SPI exporter) gets the spans as {@code SpanData}.
 */
abstract class SpanSink {
  /** Sends {@code batch}; {@code encoded} is the encoder's request, built at most once per batch. */
  abstract CompletableResultCode export(List<RecordedSpan> batch, Encoded encoded);

  /** Whether this sink sends the encoder's bytes (false: the spans as SpanData). */
  abstract boolean encoded();

  /** The pre-encoded request of one batch, shared by the sinks that take bytes. */
  interface Encoded {
    Marshaler get() throws IOException;
  }

  static SpanSink of(SpanExporter exporter) {
    SpanSink fast = otlpTransport(exporter);
    return fast != null ? fast : new Generic(exporter);
  }

  /** Always through {@code SpanData}: for tests, which read spans from in-memory exporters. */
  static SpanSink generic(SpanExporter exporter) {
    return new Generic(exporter);
  }

  private static SpanSink otlpTransport(SpanExporter exporter) {
    try {
      if (exporter instanceof OtlpHttpSpanExporter) {
        HttpExporter http = (HttpExporter) field(OtlpHttpSpanExporter.class, "delegate").get(exporter);
        if (field(HttpExporter.class, "exportAsJson").getBoolean(http)) {
          return null; // http/json: the SDK's JSON marshaler
        }
        return new Otlp() {
          @Override
          CompletableResultCode send(Marshaler request, int spans) {
            return http.export(request, spans);
          }
        };
      }
      if (exporter instanceof OtlpGrpcSpanExporter) {
        GrpcExporter grpc = (GrpcExporter) field(OtlpGrpcSpanExporter.class, "delegate").get(exporter);
        return new Otlp() {
          @Override
          CompletableResultCode send(Marshaler request, int spans) {
            return grpc.export(request, spans);
          }
        };
      }
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      // another exporter layout than the one this agent was built with: the general path works
      AgentLog.debug("span export: OTLP fast path unavailable (" + e + "); exporting through SpanData");
    }
    return null;
  }

  private static Field field(Class<?> c, String name) throws NoSuchFieldException {
    Field f = c.getDeclaredField(name);
    f.setAccessible(true);
    return f;
  }

  private abstract static class Otlp extends SpanSink {
    abstract CompletableResultCode send(Marshaler request, int spans);

    @Override
    CompletableResultCode export(List<RecordedSpan> batch, Encoded encoded) {
      try {
        return send(encoded.get(), batch.size());
      } catch (IOException e) {
        AgentFaults.record(e);
        return CompletableResultCode.ofFailure();
      }
    }

    @Override
    boolean encoded() {
      return true;
    }
  }

  private static final class Generic extends SpanSink {
    private final SpanExporter exporter;

    Generic(SpanExporter exporter) {
      this.exporter = exporter;
    }

    @Override
    CompletableResultCode export(List<RecordedSpan> batch, Encoded encoded) {
      return exporter.export(new ArrayList<SpanData>(batch));
    }

    @Override
    boolean encoded() {
      return false;
    }
  }

  /** A request the encoder already wrote; binary only (the sinks that take it never ask JSON). */
  static final class EncodedRequest extends Marshaler {
    private final byte[] bytes;
    private final int length;

    EncodedRequest(byte[] bytes) {
      this(bytes, bytes.length);
    }

    /** The first {@code length} bytes of {@code bytes}, which stay untouched until the export completes. */
    EncodedRequest(byte[] bytes, int length) {
      this.bytes = bytes;
      this.length = length;
    }

    @Override
    public int getBinarySerializedSize() {
      return length;
    }

    @Override
    protected void writeTo(Serializer output) throws IOException {
      throw new IOException("a pre-encoded OTLP request has no field-by-field form");
    }

    @Override
    public MessageWriter toBinaryMessageWriter() {
      return new MessageWriter() {
        @Override
        public void writeMessage(OutputStream output) throws IOException {
          output.write(bytes, 0, length);
        }

        @Override
        public int getContentLength() {
          return length;
        }
      };
    }
  }
}
