package dev.redisresilience.agent.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Every configuration key the agent knows, in one place. The README's configuration table lists
 * exactly these (a test keeps the two in step).
 */
public final class Settings {
  private static final List<Setting<?>> ALL = new ArrayList<>();

  // --- switches -------------------------------------------------------------------------------
  public static final Setting<Boolean> ENABLED =
      bool("enabled", true, "Turns the whole agent on or off; false makes it a no-op.");
  public static final Setting<Boolean> JEDIS_ENABLED =
      bool("jedis.enabled", true, "Instrument Jedis (4.0+).");
  public static final Setting<Boolean> LETTUCE_ENABLED =
      bool("lettuce.enabled", true, "Instrument Lettuce (6.1+).");
  public static final Setting<String> CONFIG_FILE =
      string(
          "config.file",
          "",
          "a readable file path",
          "Optional properties file with these keys; system properties and environment variables"
              + " override it.");
  public static final Setting<String> LOG_LEVEL =
      choice("log.level", "info", "Agent log level on stderr.", "debug", "info", "warn", "off");

  // --- telemetry ------------------------------------------------------------------------------
  public static final Setting<Boolean> SPANS_ENABLED =
      bool("telemetry.spans.enabled", true, "Emit one CLIENT span per Redis operation.");
  public static final Setting<String> SPANS_SAMPLING =
      choice(
          "telemetry.spans.sampling",
          "otel",
          "Which spans are kept: otel: as otel.traces.sampler says (OpenTelemetry's default);"
              + " interesting: decided when the operation ends, every failed, retried, slow or"
              + " event-carrying one, the rest at telemetry.spans.sampling.ratio; a child of the"
              + " application's span follows its parent.",
          "otel",
          "interesting");
  public static final Setting<Double> SPANS_SAMPLING_RATIO =
      decimal(
          "telemetry.spans.sampling.ratio",
          0.01,
          0.0,
          1.0,
          "With telemetry.spans.sampling=interesting: the share of the other root spans kept, by"
              + " trace id (as traceidratio).");
  public static final Setting<Duration> SPANS_SAMPLING_SLOW =
      duration(
          "telemetry.spans.sampling.slow",
          Duration.ofMillis(10),
          Duration.ZERO,
          Duration.ofMinutes(10),
          "With telemetry.spans.sampling=interesting: an operation at least this slow is always"
              + " kept; 0 = no duration does.");
  public static final Setting<Boolean> METRICS_ENABLED =
      bool(
          "telemetry.metrics.enabled",
          true,
          "Emit metrics (db.client.operation.duration and the redis.client.* instruments).");
  public static final Setting<String> QUERY_TEXT =
      choice(
          "telemetry.query-text",
          "sanitized",
          "db.query.text on spans: sanitized (command and keys, every value replaced by ?) or off.",
          "sanitized",
          "off");
  public static final Setting<Integer> QUERY_TEXT_MAX_LENGTH =
      integer(
          "telemetry.query-text.max-length",
          256,
          16,
          32_768,
          "Longest db.query.text in characters; longer text ends with '...'.");
  public static final Setting<Duration> SHUTDOWN_FLUSH_TIMEOUT =
      duration(
          "telemetry.shutdown-timeout",
          Duration.ofSeconds(5),
          Duration.ZERO,
          Duration.ofMinutes(1),
          "How long JVM exit may wait for the last telemetry export; a collector that failed or"
              + " stalled on the previous export gets 200ms instead.");

  // --- timeouts -------------------------------------------------------------------------------
  public static final Setting<Duration> TIMEOUT_CONNECT =
      duration(
          "timeout.connect",
          Duration.ofSeconds(5),
          Duration.ZERO,
          Duration.ofMinutes(10),
          "Connect timeout applied to every new connection (per timeout.mode); 0 leaves the"
              + " client's own.");
  public static final Setting<Duration> TIMEOUT_COMMAND =
      duration(
          "timeout.command",
          Duration.ofSeconds(5),
          Duration.ZERO,
          Duration.ofMinutes(10),
          "Command (read) timeout applied to every connection (per timeout.mode); 0 leaves the"
              + " client's own.");
  public static final Setting<String> TIMEOUT_MODE =
      choice(
          "timeout.mode",
          "cap",
          "override: always the agent's timeouts; cap: the lower of the app's and the agent's;"
              + " default: the agent's only where the app kept the client's default.",
          "override",
          "cap",
          "default");
  public static final Setting<java.util.Map<String, Duration>> TIMEOUT_COMMANDS =
      add(
          "timeout.commands",
          java.util.Collections.emptyMap(),
          Settings::commandDurations,
          Settings::formatCommandDurations,
          "a list COMMAND:duration, e.g. KEYS:30s,FLUSHALL:2m",
          "Per-command command timeouts (replace timeout.command for those commands).");
  public static final Setting<Duration> TIMEOUT_BLOCKING_MARGIN =
      duration(
          "timeout.blocking-margin",
          Duration.ofSeconds(1),
          Duration.ZERO,
          Duration.ofMinutes(10),
          "Blocking commands (BLPOP, XREAD BLOCK, WAIT ...) get their own block time plus this;"
              + " block time 0 (forever) stays unlimited.");

  // --- retries --------------------------------------------------------------------------------
  public static final Setting<Integer> RETRY_MAX_ATTEMPTS =
      integer(
          "retry.max-attempts",
          4,
          1,
          100,
          "Attempts per operation, the first one included (4 = up to 3 retries; 1 = no retries).");
  public static final Setting<Duration> RETRY_BACKOFF_BASE =
      duration(
          "retry.backoff.base",
          Duration.ofMillis(10),
          Duration.ZERO,
          Duration.ofMinutes(1),
          "Exponential backoff: the first retry waits up to this, doubling per retry.");
  public static final Setting<Duration> RETRY_BACKOFF_MAX =
      duration(
          "retry.backoff.max",
          Duration.ofSeconds(1),
          Duration.ZERO,
          Duration.ofMinutes(1),
          "Upper bound of one backoff.");
  public static final Setting<String> RETRY_JITTER =
      choice(
          "retry.jitter",
          "full",
          "full: random(0, backoff); equal: backoff/2 + random(0, backoff/2); decorrelated:"
              + " random(base, 3 x previous); none: the exponential value itself.",
          "full",
          "equal",
          "decorrelated",
          "none");
  public static final Setting<java.util.Set<String>> RETRY_ON =
      add(
          "retry.on",
          new java.util.LinkedHashSet<>(
              java.util.Arrays.asList(
                  "connection", "timeout", "LOADING", "TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN",
                  "READONLY")),
          Settings::retryConditions,
          v -> String.join(",", v),
          "a list of connection, timeout and Redis error prefixes (LOADING, TRYAGAIN, BUSY ...)",
          "Failures that may be retried (still subject to the retry-safety rule).");
  public static final Setting<Duration> RETRY_MAX_DURATION =
      duration(
          "retry.max-duration",
          Duration.ofSeconds(10),
          Duration.ZERO,
          Duration.ofMinutes(10),
          "No retry starts (or backs off) past this time since the operation began; 0 = no"
              + " limit.");
  public static final Setting<Boolean> RETRY_UNSAFE_WRITES =
      bool(
          "retry.unsafe-writes",
          false,
          "Also retry non-idempotent commands (INCR, LPUSH ...) after a failure that may have"
              + " reached the server. They may then run twice.");
  public static final Setting<Boolean> RETRY_IDEMPOTENT_STATE =
      bool(
          "retry.idempotent-state",
          false,
          "Also retry writes that change data only once but whose reply differs on a re-run"
              + " (SADD, DEL, HSET ... answer 0 the second time) after a failure that may have"
              + " reached the server.");
  public static final Setting<java.util.Set<String>> RETRY_IDEMPOTENT_COMMANDS =
      add(
          "retry.idempotent-commands",
          java.util.Collections.emptySet(),
          Settings::commandNames,
          v -> String.join(",", v),
          "a list of command names, e.g. EVALSHA,JSON.SET",
          "Commands to treat as idempotent (retried even after an unknown outcome).");
  public static final Setting<Integer> RETRY_BUDGET_TOKENS =
      integer(
          "retry.budget.tokens",
          10,
          0,
          1_000_000,
          "Retry budget per client and server (gRPC-style token bucket): a retryable failure"
              + " costs 1 token, retries stop while half or fewer remain; 0 turns the budget off.");
  public static final Setting<Double> RETRY_BUDGET_RATIO =
      decimal(
          "retry.budget.ratio",
          0.1,
          0.0,
          1000.0,
          "Tokens a successful operation gives back to the retry budget.");

  // --- reconnects -----------------------------------------------------------------------------
  public static final Setting<Duration> RECONNECT_BACKOFF_BASE =
      duration(
          "reconnect.backoff.base",
          Duration.ofMillis(100),
          Duration.ZERO,
          Duration.ofMinutes(1),
          "Lettuce reconnects: the first reconnect waits up to this, doubling per attempt (replaces"
              + " Lettuce's default delay only, never one the application configured).");
  public static final Setting<Duration> RECONNECT_BACKOFF_MAX =
      duration(
          "reconnect.backoff.max",
          Duration.ofSeconds(10),
          Duration.ZERO,
          Duration.ofMinutes(10),
          "Upper bound of one reconnect delay.");
  public static final Setting<String> RECONNECT_JITTER =
      choice(
          "reconnect.jitter",
          "full",
          "How the reconnect delay is randomised so that many clients do not reconnect at the same"
              + " instant after a server restart: full, equal, decorrelated, none (as retry.jitter);"
              + " client: keep the client's own delay (Lettuce: exponential, no jitter).",
          "full",
          "equal",
          "decorrelated",
          "none",
          "client");

  // --- health checks --------------------------------------------------------------------------
  public static final Setting<Duration> HEALTH_CHECK_INTERVAL =
      duration(
          "health-check.interval",
          Duration.ofSeconds(10),
          Duration.ZERO,
          Duration.ofHours(24),
          "A connection idle longer than this is PINGed before it is used; a failed check"
              + " replaces it first. 0 = off.");

  // --- offline queue ----------------------------------------------------------------------------
  public static final Setting<String> OFFLINE_QUEUE =
      choice(
          "offline-queue",
          "buffer",
          "What a client that queues commands while disconnected (Lettuce) does with a command"
              + " issued then: buffer: keep it until the reconnect (Lettuce's own default); reject:"
              + " fail it at once with a connection error (node-redis' disableOfflineQueue).",
          "buffer",
          "reject");
  public static final Setting<Integer> OFFLINE_QUEUE_MAX_SIZE =
      integer(
          "offline-queue.max-size",
          0,
          0,
          Integer.MAX_VALUE,
          "With offline-queue=buffer: at most this many commands wait per connection while it is"
              + " disconnected; a command beyond that fails at once with a connection error, as in"
              + " reject mode. 0 = no bound (Lettuce's default).");

  // --- Smart Client Handoffs (maintenance notifications) ------------------------------------
  public static final Setting<String> MAINTENANCE_ENABLED =
      choice(
          "maintenance.enabled",
          "auto",
          "Smart Client Handoffs: auto: opt RESP3 connections in to maintenance notifications"
              + " (CLIENT MAINT_NOTIFICATIONS ON) where the client does not, and stay off quietly"
              + " when the server refuses; on: the same, and say so when a server refuses; off: send"
              + " nothing and leave pushes to the client. Lettuce 7 handles them itself; the agent"
              + " then only reports.",
          "auto",
          "on",
          "off");
  public static final Setting<Duration> MAINTENANCE_RELAXED_TIMEOUT =
      duration(
          "maintenance.relaxed-timeout",
          Duration.ofSeconds(10),
          Duration.ZERO,
          Duration.ofMinutes(10),
          "Command timeout during a maintenance window (MIGRATING / FAILING_OVER until MIGRATED /"
              + " FAILED_OVER plus this again as grace, and on a connection being moved); never"
              + " shortens a longer timeout.");
  public static final Setting<Duration> MAINTENANCE_MAX_WINDOW =
      duration(
          "maintenance.max-window",
          Duration.ofMinutes(2),
          Duration.ofSeconds(1),
          Duration.ofHours(1),
          "Longest a connection keeps relaxed timeouts when no MIGRATED / FAILED_OVER follows.");
  public static final Setting<String> MAINTENANCE_ENDPOINT_TYPE =
      choice(
          "maintenance.endpoint-type",
          "auto",
          "moving-endpoint-type of the opt-in: auto (an IP when the client connects by IP, internal"
              + " when it is private or loopback; else a name) or explicit.",
          "auto",
          "internal-ip",
          "internal-fqdn",
          "external-ip",
          "external-fqdn",
          "none");

  // --- Prometheus scrape endpoint ----------------------------------------------------------------
  public static final Setting<Integer> PROMETHEUS_PORT =
      integer(
          "prometheus.port",
          0,
          0,
          65_535,
          "Serve the metrics for Prometheus to scrape at http://{prometheus.host}:{port}/metrics"
              + " (OpenTelemetry's Prometheus exporter), besides OTLP; 0 = off.");
  public static final Setting<String> PROMETHEUS_HOST =
      add(
          "prometheus.host",
          "127.0.0.1",
          Settings::hostName,
          v -> v,
          "a host name or IP address of this machine (0.0.0.0: every interface)",
          "The address the Prometheus endpoint binds to; loopback only unless set.");

  private Settings() {}

  public static List<Setting<?>> all() {
    return Collections.unmodifiableList(ALL);
  }

  // --- factories --------------------------------------------------------------------------------

  static java.util.Map<String, Duration> commandDurations(String raw) {
    java.util.Map<String, Duration> out = new java.util.LinkedHashMap<>();
    if (raw.isEmpty()) {
      return out;
    }
    for (String part : raw.split(",")) {
      int colon = part.lastIndexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("expected COMMAND:duration pairs, e.g. KEYS:30s");
      }
      String name = part.substring(0, colon).trim().toUpperCase(Locale.ROOT);
      Duration d;
      try {
        d = Durations.parse(part.substring(colon + 1));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("expected COMMAND:duration pairs, e.g. KEYS:30s");
      }
      if (name.isEmpty() || name.contains(" ")) {
        throw new IllegalArgumentException("expected COMMAND:duration pairs, e.g. KEYS:30s");
      }
      out.put(name, d);
    }
    return java.util.Collections.unmodifiableMap(out);
  }

  static String formatCommandDurations(java.util.Map<String, Duration> m) {
    StringBuilder sb = new StringBuilder();
    for (java.util.Map.Entry<String, Duration> e : m.entrySet()) {
      if (sb.length() > 0) {
        sb.append(',');
      }
      sb.append(e.getKey()).append(':').append(Durations.format(e.getValue()));
    }
    return sb.toString();
  }

  static java.util.Set<String> retryConditions(String raw) {
    java.util.Set<String> out = new java.util.LinkedHashSet<>();
    for (String part : raw.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      String lower = p.toLowerCase(Locale.ROOT);
      if (lower.equals("connection") || lower.equals("timeout")) {
        out.add(lower);
      } else if (p.matches("[A-Za-z][A-Za-z0-9_]{1,31}")) {
        out.add(p.toUpperCase(Locale.ROOT));
      } else {
        throw new IllegalArgumentException(
            "expected connection, timeout or Redis error prefixes such as LOADING");
      }
    }
    return java.util.Collections.unmodifiableSet(out);
  }

  static String hostName(String raw) {
    String h = raw.trim();
    if (h.isEmpty() || !h.matches("[A-Za-z0-9._:\\-]+")) {
      throw new IllegalArgumentException("expected a host name or IP address, e.g. 127.0.0.1");
    }
    return h;
  }

  static java.util.Set<String> commandNames(String raw) {
    java.util.Set<String> out = new java.util.LinkedHashSet<>();
    for (String part : raw.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      if (p.contains(" ")) {
        throw new IllegalArgumentException("expected command names separated by commas");
      }
      out.add(p.toUpperCase(Locale.ROOT));
    }
    return java.util.Collections.unmodifiableSet(out);
  }

  static Setting<Boolean> bool(String key, boolean def, String description) {
    return add(
        key,
        def,
        raw -> {
          if (raw.equalsIgnoreCase("true")) {
            return true;
          }
          if (raw.equalsIgnoreCase("false")) {
            return false;
          }
          throw new IllegalArgumentException("expected true or false");
        },
        String::valueOf,
        "true | false",
        description);
  }

  static Setting<String> string(String key, String def, String allowed, String description) {
    return add(key, def, raw -> raw, v -> v, allowed, description);
  }

  static Setting<String> choice(String key, String def, String description, String... choices) {
    List<String> allowed = Arrays.asList(choices);
    String allowedText = String.join(" | ", choices);
    return add(
        key,
        def,
        raw -> {
          String v = raw.toLowerCase(Locale.ROOT);
          if (!allowed.contains(v)) {
            throw new IllegalArgumentException("expected one of " + allowedText);
          }
          return v;
        },
        v -> v,
        allowedText,
        description);
  }

  static Setting<Integer> integer(String key, int def, int min, int max, String description) {
    String allowed = "an integer from " + min + " to " + max;
    return add(
        key,
        def,
        raw -> {
          int v;
          try {
            v = Integer.parseInt(raw);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected " + allowed);
          }
          if (v < min || v > max) {
            throw new IllegalArgumentException("expected " + allowed);
          }
          return v;
        },
        String::valueOf,
        allowed,
        description);
  }

  static Setting<Double> decimal(
      String key, double def, double min, double max, String description) {
    String allowed = "a number from " + min + " to " + max;
    return add(
        key,
        def,
        raw -> {
          double v;
          try {
            v = Double.parseDouble(raw);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected " + allowed);
          }
          if (!(v >= min && v <= max)) {
            throw new IllegalArgumentException("expected " + allowed);
          }
          return v;
        },
        String::valueOf,
        allowed,
        description);
  }

  static Setting<Duration> duration(
      String key, Duration def, Duration min, Duration max, String description) {
    String allowed =
        "a duration from "
            + Durations.format(min)
            + " to "
            + Durations.format(max)
            + " (e.g. 250ms, 5s, 1m)";
    return add(
        key,
        def,
        raw -> {
          Duration d;
          try {
            d = Durations.parse(raw);
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("expected " + allowed);
          }
          if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new IllegalArgumentException("expected " + allowed);
          }
          return d;
        },
        Durations::format,
        allowed,
        description);
  }

  static <T> Setting<T> add(
      String key,
      T def,
      Setting.Parser<T> parser,
      Setting.Formatter<T> formatter,
      String allowed,
      String description) {
    Setting<T> s = new Setting<>(ALL.size(), key, def, parser, formatter, allowed, description);
    ALL.add(s);
    return s;
  }
}
