package dev.redisresilience.agent.config;

import java.time.Duration;
import java.util.Locale;

/** Parses and prints durations the way people write them in config: {@code 250ms}, {@code 5s}. */
public final class Durations {
  private Durations() {}

  /**
   * Accepts {@code <number><unit>} with unit ms, s, m or h, or a bare number of milliseconds.
   *
   * @throws IllegalArgumentException with a message saying what is allowed
   */
  public static Duration parse(String raw) {
    String s = raw.trim().toLowerCase(Locale.ROOT);
    int split = 0;
    while (split < s.length() && (Character.isDigit(s.charAt(split)) || s.charAt(split) == '.')) {
      split++;
    }
    if (split == 0) {
      throw new IllegalArgumentException("not a duration");
    }
    double amount;
    try {
      amount = Double.parseDouble(s.substring(0, split));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a duration");
    }
    String unit = s.substring(split).trim();
    double millis;
    switch (unit) {
      case "":
      case "ms":
        millis = amount;
        break;
      case "s":
        millis = amount * 1000;
        break;
      case "m":
      case "min":
        millis = amount * 60_000;
        break;
      case "h":
        millis = amount * 3_600_000;
        break;
      default:
        throw new IllegalArgumentException("unknown unit '" + unit + "'");
    }
    if (millis > Long.MAX_VALUE / 2_000_000L) {
      throw new IllegalArgumentException("too large");
    }
    return Duration.ofNanos(Math.round(millis * 1_000_000));
  }

  /** The shortest exact form: {@code 5s}, {@code 250ms}, {@code 1m}. */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms != 0 && ms % 3_600_000 == 0) {
      return ms / 3_600_000 + "h";
    }
    if (ms != 0 && ms % 60_000 == 0) {
      return ms / 60_000 + "m";
    }
    if (ms != 0 && ms % 1000 == 0) {
      return ms / 1000 + "s";
    }
    return ms + "ms";
  }
}
