package dev.redisresilience.agent.telemetry;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.exporter.internal.marshal.Marshaler;
import io.opentelemetry.exporter.internal.otlp.InstrumentationScopeMarshaler;
import io.opentelemetry.exporter.internal.otlp.KeyValueMarshaler;
import io.opentelemetry.exporter.internal.otlp.ResourceMarshaler;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.EventData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * Writes a batch of {@link RecordedSpan}s as one OTLP {@code ExportTraceServiceRequest} in
 * protobuf binary form, for the OTLP exporters' own transport (see {@link SpanSink}).
 *
 * <p>Why not the SDK's marshaler: it sees spans through {@code SpanData}, so every span costs hex
 * ids turned back into bytes, a sorted attribute map and a size pass over all of it. Here every
 * part that repeats is encoded once and cached as bytes (resource, scope, span names, the
 * attributes an endpoint shares across its commands), and a span adds only its ids, times, query
 * text and outcome. The parts the SDK can encode once (resource, scope, attribute values of every
 * type) are encoded by the SDK's own marshalers, so their encoding is exactly the SDK's.
 *
 * <p>Used by the single export thread only; not thread-safe.
 */
final class OtlpSpanEncoder {
  // field tags: (field number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32)
  private static final int REQUEST_RESOURCE_SPANS = (1 << 3) | 2;
  private static final int RESOURCE_SPANS_RESOURCE = (1 << 3) | 2;
  private static final int RESOURCE_SPANS_SCOPE_SPANS = (2 << 3) | 2;
  private static final int RESOURCE_SPANS_SCHEMA_URL = (3 << 3) | 2;
  private static final int SCOPE_SPANS_SCOPE = (1 << 3) | 2;
  private static final int SCOPE_SPANS_SPANS = (2 << 3) | 2;
  private static final int SCOPE_SPANS_SCHEMA_URL = (3 << 3) | 2;
  private static final int SPAN_TRACE_ID = (1 << 3) | 2;
  private static final int SPAN_SPAN_ID = (2 << 3) | 2;
  private static final int SPAN_PARENT_SPAN_ID = (4 << 3) | 2;
  private static final int SPAN_NAME = (5 << 3) | 2;
  private static final int SPAN_KIND = 6 << 3;
  private static final int SPAN_START = (7 << 3) | 1;
  private static final int SPAN_END = (8 << 3) | 1;
  private static final int SPAN_ATTRIBUTES = (9 << 3) | 2;
  private static final int SPAN_EVENTS = (11 << 3) | 2;
  private static final int SPAN_STATUS = (15 << 3) | 2;
  private static final int SPAN_FLAGS = (16 << 3) | 5;
  private static final int EVENT_TIME = (1 << 3) | 1;
  private static final int EVENT_NAME = (2 << 3) | 2;
  private static final int EVENT_ATTRIBUTES = (3 << 3) | 2;
  private static final int STATUS_MESSAGE = (2 << 3) | 2;
  private static final int STATUS_CODE = 3 << 3;
  private static final int KEY_VALUE_KEY = (1 << 3) | 2;
  private static final int KEY_VALUE_VALUE = (2 << 3) | 2;
  private static final int ANY_VALUE_STRING = (1 << 3) | 2;
  private static final int ANY_VALUE_INT = 3 << 3;

  private static final int SPAN_KIND_CLIENT = 3;
  private static final int STATUS_CODE_ERROR = 2;

  private static final byte[] KEY_QUERY_TEXT = utf8(Operation.QUERY_TEXT.getKey());
  private static final byte[] KEY_BATCH_SIZE = utf8(Operation.BATCH_SIZE.getKey());
  private static final byte[] KEY_ATTEMPTS = utf8(Operation.ATTEMPTS.getKey());
  private static final byte[] KEY_ERROR = utf8(Operation.ERROR.getKey());
  private static final byte[] KEY_STATUS = utf8(Operation.STATUS.getKey());

  /** Bounds for the caches; names and attribute sets repeat, so these are rarely reached. */
  private static final int MAX_CACHED = 4096;

  private final ProtoBuffer spans = new ProtoBuffer(1 << 16);
  private final ProtoBuffer span = new ProtoBuffer(1024);
  private final ProtoBuffer scratch = new ProtoBuffer(256);
  private final IdentityHashMap<Attributes, byte[]> attributeBytes = new IdentityHashMap<>();
  private final HashMap<String, byte[]> strings = new HashMap<>();
  private final IdentityHashMap<Object, byte[]> messages = new IdentityHashMap<>();
  private final List<InstrumentationScopeInfo> scopes = new ArrayList<>(2);
  private final List<int[]> scopeRanges = new ArrayList<>(2);

  /** One request for {@code batch} (all spans share one resource). */
  byte[] encode(List<RecordedSpan> batch) throws IOException {
    ProtoBuffer out = new ProtoBuffer(1024);
    encode(batch, out);
    return out.toByteArray();
  }

  /**
   * One request for {@code batch}, written into {@code out} (reset first): the export path reuses
   * its request buffers instead of copying every request into a new array.
   */
  void encode(List<RecordedSpan> batch, ProtoBuffer out) throws IOException {
    out.reset();
    if (batch.isEmpty()) {
      return;
    }
    Resource resource = batch.get(0).getResource();
    scopes.clear();
    scopeRanges.clear();
    spans.reset();
    for (RecordedSpan s : batch) {
      if (!scopes.contains(s.getInstrumentationScopeInfo())) {
        scopes.add(s.getInstrumentationScopeInfo());
      }
    }
    int resourceSpansSize = 0;
    byte[] resourceBytes = message(resource);
    resourceSpansSize += fieldSize(resourceBytes.length);
    byte[] resourceSchema = resource.getSchemaUrl() == null ? null : string(resource.getSchemaUrl());
    if (resourceSchema != null) {
      resourceSpansSize += fieldSize(resourceSchema.length);
    }
    int[] scopeSpansSizes = new int[scopes.size()];
    for (int i = 0; i < scopes.size(); i++) {
      InstrumentationScopeInfo scope = scopes.get(i);
      int start = spans.size();
      for (RecordedSpan s : batch) {
        if (s.getInstrumentationScopeInfo() == scope) {
          writeSpan(s);
          spans.writeTag(SCOPE_SPANS_SPANS);
          spans.writeLength(span.size());
          spans.write(span);
        }
      }
      scopeRanges.add(new int[] {start, spans.size()});
      int size = fieldSize(message(scope).length) + (spans.size() - start);
      if (scope.getSchemaUrl() != null) {
        size += fieldSize(string(scope.getSchemaUrl()).length);
      }
      scopeSpansSizes[i] = size;
      resourceSpansSize += fieldSize(size);
    }

    out.writeTag(REQUEST_RESOURCE_SPANS);
    out.writeLength(resourceSpansSize);
    out.writeBytesField(RESOURCE_SPANS_RESOURCE, resourceBytes);
    for (int i = 0; i < scopes.size(); i++) {
      InstrumentationScopeInfo scope = scopes.get(i);
      out.writeTag(RESOURCE_SPANS_SCOPE_SPANS);
      out.writeLength(scopeSpansSizes[i]);
      out.writeBytesField(SCOPE_SPANS_SCOPE, message(scope));
      int[] range = scopeRanges.get(i);
      out.write(spans, range[0], range[1] - range[0]);
      if (scope.getSchemaUrl() != null) {
        out.writeBytesField(SCOPE_SPANS_SCHEMA_URL, string(scope.getSchemaUrl()));
      }
    }
    if (resourceSchema != null) {
      out.writeBytesField(RESOURCE_SPANS_SCHEMA_URL, resourceSchema);
    }
  }

  /** Encodes one span (the Span message's content) into {@link #span}. */
  private void writeSpan(RecordedSpan s) throws IOException {
    ProtoBuffer b = span;
    b.reset();
    b.writeTag(SPAN_TRACE_ID);
    b.writeLength(16);
    b.writeLongBigEndian(s.traceIdHigh());
    b.writeLongBigEndian(s.traceIdLow());
    b.writeTag(SPAN_SPAN_ID);
    b.writeLength(8);
    b.writeLongBigEndian(s.spanIdLong());
    if (s.parentSpanIdLong() != 0) {
      b.writeTag(SPAN_PARENT_SPAN_ID);
      b.writeLength(8);
      b.writeLongBigEndian(s.parentSpanIdLong());
    }
    b.writeBytesField(SPAN_NAME, string(s.getName()));
    b.writeTag(SPAN_KIND);
    b.writeVarint(SPAN_KIND_CLIENT);
    b.writeTag(SPAN_START);
    b.writeFixed64(s.getStartEpochNanos());
    b.writeTag(SPAN_END);
    b.writeFixed64(s.getEndEpochNanos());
    b.write(attributes(s.baseAttributes(), SPAN_ATTRIBUTES));
    if (s.queryText() != null) {
      writeStringAttribute(b, KEY_QUERY_TEXT, s.queryText());
    }
    if (s.batchSize() >= 0) {
      writeLongAttribute(b, KEY_BATCH_SIZE, s.batchSize());
    }
    if (s.attempts() > 1) {
      writeLongAttribute(b, KEY_ATTEMPTS, s.attempts());
    }
    if (s.errorType() != null) {
      writeStringAttribute(b, KEY_ERROR, string(s.errorType()));
    }
    if (s.statusCode() != null) {
      writeStringAttribute(b, KEY_STATUS, string(s.statusCode()));
    }
    for (EventData e : s.getEvents()) {
      writeEvent(b, e);
    }
    b.writeTag(SPAN_STATUS);
    if (s.errorType() == null) {
      b.writeLength(0);
    } else {
      String description = s.statusDescription();
      byte[] msg = description == null || description.isEmpty() ? null : description.getBytes(StandardCharsets.UTF_8);
      int size = (msg == null ? 0 : fieldSize(msg.length)) + 1 + ProtoBuffer.varintSize(STATUS_CODE_ERROR);
      b.writeLength(size);
      if (msg != null) {
        b.writeBytesField(STATUS_MESSAGE, msg);
      }
      b.writeTag(STATUS_CODE);
      b.writeVarint(STATUS_CODE_ERROR);
    }
    b.writeTag(SPAN_FLAGS);
    b.writeFixed32(s.flags()); // W3C trace flags and is-remote, as the SDK writes them
  }

  private void writeEvent(ProtoBuffer b, EventData e) throws IOException {
    ProtoBuffer x = scratch;
    x.reset();
    x.writeTag(EVENT_TIME);
    x.writeFixed64(e.getEpochNanos());
    x.writeBytesField(EVENT_NAME, string(e.getName()));
    x.write(attributes(e.getAttributes(), EVENT_ATTRIBUTES));
    b.writeTag(SPAN_EVENTS);
    b.writeLength(x.size());
    b.write(x);
  }

  private static void writeStringAttribute(ProtoBuffer b, byte[] key, byte[] value) {
    int anyValue = fieldSize(value.length);
    b.writeTag(SPAN_ATTRIBUTES);
    b.writeLength(fieldSize(key.length) + fieldSize(anyValue));
    b.writeBytesField(KEY_VALUE_KEY, key);
    b.writeTag(KEY_VALUE_VALUE);
    b.writeLength(anyValue);
    b.writeBytesField(ANY_VALUE_STRING, value);
  }

  /** A per-span string (the query text): ASCII straight into the buffer, no array per span. */
  private static void writeStringAttribute(ProtoBuffer b, byte[] key, String value) {
    int n = value.length();
    for (int i = 0; i < n; i++) {
      if (value.charAt(i) >= 0x80) {
        writeStringAttribute(b, key, value.getBytes(StandardCharsets.UTF_8));
        return;
      }
    }
    int anyValue = fieldSize(n);
    b.writeTag(SPAN_ATTRIBUTES);
    b.writeLength(fieldSize(key.length) + fieldSize(anyValue));
    b.writeBytesField(KEY_VALUE_KEY, key);
    b.writeTag(KEY_VALUE_VALUE);
    b.writeLength(anyValue);
    b.writeTag(ANY_VALUE_STRING);
    b.writeLength(n);
    b.writeAscii(value);
  }

  private static void writeLongAttribute(ProtoBuffer b, byte[] key, long value) {
    int anyValue = 1 + ProtoBuffer.varintSize(value);
    b.writeTag(SPAN_ATTRIBUTES);
    b.writeLength(fieldSize(key.length) + fieldSize(anyValue));
    b.writeBytesField(KEY_VALUE_KEY, key);
    b.writeTag(KEY_VALUE_VALUE);
    b.writeLength(anyValue);
    b.writeTag(ANY_VALUE_INT);
    b.writeVarint(value);
  }

  /** The attributes as repeated KeyValue fields with tag {@code tag}, cached per instance. */
  private byte[] attributes(Attributes attrs, int tag) throws IOException {
    if (attrs == null || attrs.isEmpty()) {
      return ProtoBuffer.EMPTY;
    }
    boolean cacheable = tag == SPAN_ATTRIBUTES;
    if (cacheable) {
      byte[] cached = attributeBytes.get(attrs);
      if (cached != null) {
        return cached;
      }
    }
    ProtoBuffer x = new ProtoBuffer(128);
    for (KeyValueMarshaler kv : KeyValueMarshaler.createForAttributes(attrs)) {
      byte[] body = bytesOf(kv);
      x.writeBytesField(tag, body);
    }
    byte[] encoded = x.toByteArray();
    if (cacheable) {
      if (attributeBytes.size() >= MAX_CACHED) {
        attributeBytes.clear();
      }
      attributeBytes.put(attrs, encoded);
    }
    return encoded;
  }

  /** The resource or scope message, encoded once by the SDK's marshaler. */
  private byte[] message(Object resourceOrScope) throws IOException {
    byte[] m = messages.get(resourceOrScope);
    if (m == null) {
      Marshaler marshaler =
          resourceOrScope instanceof Resource
              ? ResourceMarshaler.create((Resource) resourceOrScope)
              : InstrumentationScopeMarshaler.create((InstrumentationScopeInfo) resourceOrScope);
      m = bytesOf(marshaler);
      if (messages.size() >= 64) {
        messages.clear();
      }
      messages.put(resourceOrScope, m);
    }
    return m;
  }

  private byte[] string(String s) {
    byte[] b = strings.get(s);
    if (b == null) {
      b = utf8(s);
      if (strings.size() >= MAX_CACHED) {
        strings.clear();
      }
      strings.put(s, b);
    }
    return b;
  }

  private static byte[] bytesOf(Marshaler m) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(m.getBinarySerializedSize());
    m.writeBinaryTo(bytes);
    return bytes.toByteArray();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Size of a length-delimited field (one-byte tag) whose content is {@code length} bytes. */
  private static int fieldSize(int length) {
    return 1 + ProtoBuffer.varintSize(length) + length;
  }

  /** A growable byte array with the few protobuf primitives the encoder needs. */
  static final class ProtoBuffer {
    static final byte[] EMPTY = new byte[0];
    private byte[] buf;
    private int pos;

    ProtoBuffer(int capacity) {
      buf = new byte[capacity];
    }

    void reset() {
      pos = 0;
    }

    int size() {
      return pos;
    }

    /** The backing array; its first {@link #size()} bytes are the content. */
    byte[] array() {
      return buf;
    }

    int capacity() {
      return buf.length;
    }

    byte[] toByteArray() {
      return Arrays.copyOf(buf, pos);
    }

    private void ensure(int more) {
      if (pos + more > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
      }
    }

    void writeTag(int tag) {
      writeVarint(tag);
    }

    void writeLength(int length) {
      writeVarint(length);
    }

    void writeVarint(long v) {
      ensure(10);
      while ((v & ~0x7FL) != 0) {
        buf[pos++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      buf[pos++] = (byte) v;
    }

    static int varintSize(long v) {
      int n = 1;
      while ((v & ~0x7FL) != 0) {
        v >>>= 7;
        n++;
      }
      return n;
    }

    void writeFixed64(long v) {
      ensure(8);
      for (int i = 0; i < 8; i++) {
        buf[pos++] = (byte) (v >>> (8 * i));
      }
    }

    void writeFixed32(int v) {
      ensure(4);
      for (int i = 0; i < 4; i++) {
        buf[pos++] = (byte) (v >>> (8 * i));
      }
    }

    void writeLongBigEndian(long v) {
      ensure(8);
      for (int i = 7; i >= 0; i--) {
        buf[pos++] = (byte) (v >>> (8 * i));
      }
    }

    void writeBytesField(int tag, byte[] value) {
      writeTag(tag);
      writeLength(value.length);
      write(value);
    }

    /** {@code s}, every char of which is below 0x80: one byte each. */
    void writeAscii(String s) {
      int n = s.length();
      ensure(n);
      for (int i = 0; i < n; i++) {
        buf[pos++] = (byte) s.charAt(i);
      }
    }

    void write(byte[] b) {
      ensure(b.length);
      System.arraycopy(b, 0, buf, pos, b.length);
      pos += b.length;
    }

    void write(ProtoBuffer other) {
      write(other, 0, other.pos);
    }

    void write(ProtoBuffer other, int offset, int length) {
      ensure(length);
      System.arraycopy(other.buf, offset, buf, pos, length);
      pos += length;
    }
  }
}
