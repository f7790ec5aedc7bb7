package dev.redisresilience.agent.telemetry;

import dev.redisresilience.agent.AgentLog;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Reads the application's current span when an operation starts, on the application's thread, so
 * that the operation's span becomes its child (W3C trace context: trace id, parent span id, trace
 * flags). The current span lives in the application's OpenTelemetry API, whatever its version:
 *
 * <ul>
 *   <li>under the OpenTelemetry Java agent, in the agent's shaded API in the bootstrap class loader
 *       (the application's own API, if it has one, is bridged to it; this also covers
 *       applications without any API of their own);
 *   <li>otherwise in the {@code io.opentelemetry.api} classes the Redis client's class loader
 *       sees (the application's own SDK, Spring Boot's OpenTelemetry starter, Micrometer Tracing
 *       bridged to OpenTelemetry).
 * </ul>
 *
 * <p>Resolved once per class loader of the instrumentation's helpers ({@link ClassValue}); each
 * read is a handful of method-handle calls and allocates nothing when there is no current span.
 * Nothing is ever written to the application's context. A failure never reaches the application:
 * it logs one line and the spans of that reader stay root spans.
 */
final class ParentContext {
  /** Operation flag beside the W3C trace flags: the parent span context came from another process. */
  static final int PARENT_REMOTE = 0x100;

  // built at run time: the shade plugin rewrites every string constant that starts with the
  // relocated package, and these must name the application's classes, not the agent's
  private static final String APP_API = String.join(".", "io", "opentelemetry");
  private static final String JAVAAGENT_API =
      String.join(".", "io", "opentelemetry", "javaagent", "shaded", "io", "opentelemetry");

  static final Reader NONE = new Reader();

  private static final ClassValue<Reader> READERS =
      new ClassValue<Reader>() {
        @Override
        protected Reader computeValue(Class<?> anchor) {
          return resolve(anchor.getClassLoader());
        }
      };

  private ParentContext() {}

  /**
   * Binds the current span of the application that {@code anchor}'s class loader belongs to as
   * {@code op}'s parent; leaves {@code op} a root when there is none (or it is invalid).
   */
  static void capture(Operation op, Class<?> anchor) {
    Reader r = READERS.get(anchor);
    if (r != NONE) {
      r.read(op);
    }
  }

  /** Where the current span of code loaded by {@code loader} lives. */
  static Reader resolve(ClassLoader loader) {
    Reader agent = forApi(JAVAAGENT_API, null, "the OpenTelemetry Java agent");
    if (agent != NONE) {
      return agent;
    }
    return forApi(APP_API, loader, "the application's OpenTelemetry API");
  }

  /** A reader for the API under {@code prefix} as {@code loader} sees it, or {@link #NONE}. */
  static Reader forApi(String prefix, ClassLoader loader, String source) {
    Class<?> span;
    try {
      span = Class.forName(prefix + ".api.trace.Span", false, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      return NONE; // no API there: spans stay roots, nothing to say
    }
    try {
      Class<?> spanContext = Class.forName(prefix + ".api.trace.SpanContext", false, loader);
      Class<?> traceFlags = Class.forName(prefix + ".api.trace.TraceFlags", false, loader);
      MethodHandles.Lookup l = MethodHandles.publicLookup();
      MethodType objectToBoolean = MethodType.methodType(boolean.class, Object.class);
      MethodType objectToString = MethodType.methodType(String.class, Object.class);
      return new Reader(
          source,
          l.findStatic(span, "current", MethodType.methodType(span))
              .asType(MethodType.methodType(Object.class)),
          l.findVirtual(span, "getSpanContext", MethodType.methodType(spanContext))
              .asType(MethodType.methodType(Object.class, Object.class)),
          l.findVirtual(spanContext, "isValid", MethodType.methodType(boolean.class)).asType(objectToBoolean),
          l.findVirtual(spanContext, "getTraceId", MethodType.methodType(String.class)).asType(objectToString),
          l.findVirtual(spanContext, "getSpanId", MethodType.methodType(String.class)).asType(objectToString),
          MethodHandles.filterReturnValue(
                  l.findVirtual(spanContext, "getTraceFlags", MethodType.methodType(traceFlags)),
                  l.findVirtual(traceFlags, "asByte", MethodType.methodType(byte.class)))
              .asType(MethodType.methodType(byte.class, Object.class)),
          l.findVirtual(spanContext, "isRemote", MethodType.methodType(boolean.class)).asType(objectToBoolean));
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      // an API older than 1.0, or one we cannot call: say so once, keep working with root spans
      AgentLog.warn(
          "telemetry: cannot read the current span from "
              + source
              + " ("
              + e
              + "); Redis spans will not join the application's traces");
      return NONE;
    }
  }

  /** Reads one API's current span context; {@link #NONE} reads nothing. */
  static final class Reader {
    private final String source;
    private final MethodHandle currentContext; // () -> the current span's SpanContext
    private final MethodHandle isValid;
    private final MethodHandle traceId;
    private final MethodHandle spanId;
    private final MethodHandle traceFlags;
    private final MethodHandle isRemote;
    private volatile boolean broken;

    private Reader() {
      this(null, null, null, null, null, null, null, null);
      broken = true;
    }

    Reader(
        String source,
        MethodHandle current,
        MethodHandle spanContext,
        MethodHandle isValid,
        MethodHandle traceId,
        MethodHandle spanId,
        MethodHandle traceFlags,
        MethodHandle isRemote) {
      this.source = source;
      // one invocation for Span.current().getSpanContext(): handles held in fields are not inlined
      this.currentContext =
          current == null ? null : MethodHandles.filterReturnValue(current, spanContext);
      this.isValid = isValid;
      this.traceId = traceId;
      this.spanId = spanId;
      this.traceFlags = traceFlags;
      this.isRemote = isRemote;
    }

    String source() {
      return source;
    }

    void read(Operation op) {
      if (broken) {
        return;
      }
      try {
        Object sc = (Object) currentContext.invokeExact();
        if (!(boolean) isValid.invokeExact(sc)) {
          return;
        }
        String t = (String) traceId.invokeExact(sc);
        String s = (String) spanId.invokeExact(sc);
        int flags = ((byte) traceFlags.invokeExact(sc)) & 0xff;
        boolean remote = (boolean) isRemote.invokeExact(sc);
        if (!isHex(t, 32) || !isHex(s, 16)) {
          return; // a valid context always has lowercase hex ids: something else is no parent
        }
        long high = hex(t, 0);
        long low = hex(t, 16);
        long id = hex(s, 0);
        if ((high | low) != 0 && id != 0) {
          op.parent(high, low, id, flags | (remote ? PARENT_REMOTE : 0));
        }
      } catch (Throwable e) {
        broken = true;
        AgentLog.warn(
            "telemetry: reading the current span from "
                + source
                + " failed ("
                + e
                + "); Redis spans will not join the application's traces from now on");
      }
    }

    static boolean isHex(String s, int length) {
      if (s == null || s.length() != length) {
        return false;
      }
      for (int i = 0; i < length; i++) {
        char c = s.charAt(i);
        if ((c < '0' || c > '9') && (c < 'a' || c > 'f')) {
          return false;
        }
      }
      return true;
    }

    /** 16 lowercase hex digits from {@code from} (checked by {@link #isHex}). */
    static long hex(String s, int from) {
      long v = 0;
      for (int i = from; i < from + 16; i++) {
        char c = s.charAt(i);
        v = (v << 4) | (c <= '9' ? c - '0' : c - 'a' + 10);
      }
      return v;
    }
  }
}
