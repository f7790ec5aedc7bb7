package dev.redisresilience.agent.telemetry;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.Settings;
import dev.redisresilience.agent.core.ArgView;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.QueryText;
import dev.redisresilience.agent.core.SharedInstances;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.metrics.DoubleHistogram;
import java.util.Arrays;
import java.util.Objects;

/** Instruments of one client library (one instrumentation scope: jedis or lettuce). */
public final class ClientTelemetry {
  /** Semantic-convention bucket boundaries for db.client.operation.duration, in seconds. */
  static final java.util.List<Double> DURATION_BUCKETS =
      Arrays.asList(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0);

  final String library;
  final io.opentelemetry.sdk.common.InstrumentationScopeInfo scope;
  /** Where spans go; null when spans are off or no trace exporter is configured. */
  final SpanPipeline pipeline;
  final DoubleHistogram duration;
  /** Wall clock anchored to System.nanoTime(), refreshed each minute against NTP adjustments. */
  private volatile long[] anchor = newAnchor();
  final boolean spans;
  final boolean metrics;
  /** Durations of operations with a sampled span in an application trace carry an exemplar. */
  final boolean exemplars;
  final boolean queryText;
  final int queryTextMaxLength;
  final ResilienceTelemetry resilience;
  /** 0: not decided yet; 1: this agent records spans; 2: the OTel Java agent does instead. */
  private volatile int otelAgentSpans;
  /**
   * Idle endpoints remembered (each holds a slot per command, a few KB): the ones connections
   * hold are kept however many, so churning addresses cannot grow the heap beyond these.
   */
  public static final int RECENT_ENDPOINTS = 256;

  private final SharedInstances<EndpointKey, Endpoint> endpoints =
      new SharedInstances<>(RECENT_ENDPOINTS);

  ClientTelemetry(String library, OpenTelemetry otel, AgentConfig config, SpanPipeline pipeline) {
    this.library = library;
    String scope = TelemetryNames.SCOPE_PREFIX + library;
    String version = AgentVersion.get();
    this.scope =
        io.opentelemetry.sdk.common.InstrumentationScopeInfo.builder(scope).setVersion(version).build();
    this.duration =
        otel.meterBuilder(scope)
            .setInstrumentationVersion(version)
            .build()
            .histogramBuilder(TelemetryNames.OPERATION_DURATION)
            .setUnit("s")
            .setDescription("Duration of database client operations.")
            .setExplicitBucketBoundariesAdvice(DURATION_BUCKETS)
            .build();
    this.spans = config.get(Settings.SPANS_ENABLED) && pipeline != null;
    this.pipeline = this.spans ? pipeline : null;
    this.metrics = config.get(Settings.METRICS_ENABLED);
    this.exemplars = spans && metrics && pipeline.exemplars();
    // only spans carry the query text: with spans off, it is not built at all
    this.queryText = spans && config.get(Settings.QUERY_TEXT).equals("sanitized");
    this.queryTextMaxLength = config.get(Settings.QUERY_TEXT_MAX_LENGTH);
    this.resilience = new ResilienceTelemetry(otel, scope, version, metrics);
  }

  /** Retries, timeouts, errors, reconnects, health checks of this client library. */
  public ResilienceTelemetry resilience() {
    return resilience;
  }

  private static long[] newAnchor() {
    java.time.Instant now = java.time.Instant.now();
    long nanoTime = System.nanoTime();
    return new long[] {now.getEpochSecond() * 1_000_000_000L + now.getNano(), nanoTime};
  }

  /** The epoch time of a System.nanoTime() reading, without a wall-clock read per operation. */
  long epochNanos(long nanoTime) {
    long[] a = anchor;
    if (nanoTime - a[1] > 60_000_000_000L) {
      a = newAnchor();
      anchor = a;
    }
    return a[0] + (nanoTime - a[1]);
  }

  /** The shared endpoint for this (server, peer, database); cheap to call once per connection. */
  public Endpoint endpoint(
      String serverAddress, int serverPort, String peerAddress, int peerPort, long database) {
    return endpoints.get(
        new EndpointKey(serverAddress, serverPort, peerAddress, peerPort, database),
        k -> new Endpoint(serverAddress, serverPort, peerAddress, peerPort, database));
  }

  /** Endpoints someone may still hold (diagnostics and tests). */
  public int endpointCount() {
    return endpoints.size();
  }

  /** Endpoints held because they were used recently; at most {@value #RECENT_ENDPOINTS}. */
  public int recentEndpointCount() {
    return endpoints.recentSize();
  }

  /** Sanitized query text, or null when it is turned off. */
  public String queryText(CommandInfo cmd, ArgView args) {
    return queryText ? QueryText.sanitize(cmd, args, queryTextMaxLength) : null;
  }

  /** Sanitized query text from the first key and the argument count, or null when off. */
  public String queryTextFirstKey(CommandInfo cmd, byte[] firstKey, int argCount) {
    return queryText ? QueryText.sanitizeFirstKey(cmd, firstKey, argCount, queryTextMaxLength) : null;
  }

  /** A query-text builder, or null when query text is off. */
  public QueryText.Builder queryTextBuilder(CommandInfo cmd, int argCount) {
    return queryText ? new QueryText.Builder(cmd, argCount, queryTextMaxLength) : null;
  }

  public boolean queryTextEnabled() {
    return queryText;
  }

  /** Starts one logical operation (its span covers every attempt); bind the endpoint later. */
  public Operation start(CommandInfo cmd, String queryText) {
    return start(cmd, queryText, null);
  }

  /**
   * As {@link #start(CommandInfo, String)}, on the application's thread: the span becomes a child
   * of the application's current span, read from the OpenTelemetry API that {@code caller}'s class
   * loader sees (pass the instrumentation's helper class, injected next to the client).
   */
  public Operation start(CommandInfo cmd, String queryText, Class<?> caller) {
    return joined(new Operation(this, cmd, cmd.name(), queryText, -1), caller);
  }

  /**
   * As {@link #start(CommandInfo, String, Class)}, the query text built by {@code source} only if
   * the span is kept, when the operation ends (the arguments must live until then).
   */
  public Operation startDeferred(CommandInfo cmd, QueryText.Source source, Class<?> caller) {
    Operation op = new Operation(this, cmd, cmd.name(), null, -1);
    if (queryText) {
      op.deferQueryText(source);
    }
    return joined(op, caller);
  }

  /**
   * A reusable operation for a caller that runs one operation at a time on one thread (a sync
   * Jedis call): ended until {@link #restart} starts it. Its methods take no monitor, so it must
   * never be handed to another thread while it runs.
   */
  public Operation confinedOperation() {
    return new Operation(this);
  }

  /**
   * Starts {@code op}, a {@link #confinedOperation()} of this telemetry that has ended ({@link
   * Operation#reusable()}), as a new operation, as {@link #startDeferred(CommandInfo, QueryText.Source,
   * Class)} would: nothing of its previous operation survives. Returns {@code op}, or a new
   * operation when {@code op} cannot be reused (another telemetry's, or still running).
   */
  public Operation restart(Operation op, CommandInfo cmd, QueryText.Source source, Class<?> caller) {
    if (op == null || !op.reusable() || !op.reportsTo(this)) {
      return startDeferred(cmd, source, caller);
    }
    op.restart(cmd, null, queryText ? source : null);
    return joined(op, caller);
  }

  /** Starts a batch (PIPELINE / MULTI); its size is set when it ends. */
  public Operation startBatch(String operation) {
    return startBatch(operation, null);
  }

  /** As {@link #startBatch(String)}, joining the application's trace as {@link #start} does. */
  public Operation startBatch(String operation, Class<?> caller) {
    return joined(new Operation(this, null, operation, null, 0), caller);
  }

  private Operation joined(Operation op, Class<?> caller) {
    if (caller != null && spans) {
      if (otelAgentReportsSpans()) {
        op.noSpan();
      } else {
        ParentContext.capture(op, caller);
      }
    }
    return op;
  }

  /**
   * Whether the OpenTelemetry Java agent beside this one reports this library's operations as
   * spans (then this agent does not, see {@link OtelAgentRedisSpans}). Decided at the first
   * operation, when every agent's premain has run; a race decides it twice, the same way.
   */
  private boolean otelAgentReportsSpans() {
    int s = otelAgentSpans;
    if (s == 0) {
      boolean reports = OtelAgentRedisSpans.reportsSpans(library);
      if (reports) {
        dev.redisresilience.agent.AgentLog.info(
            "the OpenTelemetry Java agent reports "
                + library
                + " operations as spans: this agent records no "
                + library
                + " spans (metrics, events and resilience stay); for this agent's spans instead,"
                + " set otel.instrumentation."
                + library
                + ".enabled=false");
      }
      s = reports ? 2 : 1;
      otelAgentSpans = s;
    }
    return s == 2;
  }

  private static final class EndpointKey {
    final String serverAddress;
    final int serverPort;
    final String peerAddress;
    final int peerPort;
    final long database;
    final int hash;

    EndpointKey(String sa, int sp, String pa, int pp, long db) {
      serverAddress = sa;
      serverPort = sp;
      peerAddress = pa;
      peerPort = pp;
      database = db;
      hash = Objects.hash(sa, sp, pa, pp, db);
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof EndpointKey)) {
        return false;
      }
      EndpointKey k = (EndpointKey) o;
      return serverPort == k.serverPort
          && peerPort == k.peerPort
          && database == k.database
          && Objects.equals(serverAddress, k.serverAddress)
          && Objects.equals(peerAddress, k.peerAddress);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }
}
