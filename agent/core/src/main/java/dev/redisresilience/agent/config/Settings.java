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

  private Settings() {}

  public static List<Setting<?>> all() {
    return Collections.unmodifiableList(ALL);
  }

  // --- factories --------------------------------------------------------------------------------

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
