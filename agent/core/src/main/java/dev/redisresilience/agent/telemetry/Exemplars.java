package dev.redisresilience.agent.telemetry;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceId;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Context;

/**
 * The context a duration measurement is recorded in when exemplars are on: the operation's own
 * span, in the application's trace, so a trace-based exemplar filter keeps it and the exemplar
 * links to that span. In the agent's (relocated) context, never the application's.
 */
final class Exemplars {
  private Exemplars() {}

  static Context context(long traceIdHigh, long traceIdLow, long spanId, int parentFlags) {
    return Context.root()
        .with(
            Span.wrap(
                SpanContext.create(
                    TraceId.fromLongs(traceIdHigh, traceIdLow),
                    SpanId.fromLong(spanId),
                    TraceFlags.fromByte((byte) (RecordedSpan.childFlags(parentFlags) & 0xff)),
                    TraceState.getDefault())));
  }
}
