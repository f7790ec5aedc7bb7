package dev.redisresilience.agent.config;

import java.util.Locale;

/**
 * One configuration key: its name, default, parser and a plain-words description of what is
 * allowed. All keys are declared in {@link Settings}; nothing reads configuration by string name.
 */
public final class Setting<T> {
  /** Parses a raw value; throws {@link IllegalArgumentException} when it is not allowed. */
  public interface Parser<T> {
    T parse(String raw);
  }

  public static final String PREFIX = "redis.resilience.";

  final int index;
  private final String key;
  private final T defaultValue;
  private final Parser<T> parser;
  private final String allowed;
  private final String description;
  private final Formatter<T> formatter;

  interface Formatter<T> {
    String format(T value);
  }

  Setting(
      int index,
      String key,
      T defaultValue,
      Parser<T> parser,
      Formatter<T> formatter,
      String allowed,
      String description) {
    this.index = index;
    this.key = key;
    this.defaultValue = defaultValue;
    this.parser = parser;
    this.formatter = formatter;
    this.allowed = allowed;
    this.description = description;
  }

  /** The full system-property name, e.g. {@code redis.resilience.retry.max-attempts}. */
  public String property() {
    return PREFIX + key;
  }

  /** The environment-variable name, e.g. {@code REDIS_RESILIENCE_RETRY_MAX_ATTEMPTS}. */
  public String envVar() {
    return envName(property());
  }

  static String envName(String property) {
    return property.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  public String key() {
    return key;
  }

  public T defaultValue() {
    return defaultValue;
  }

  public String allowed() {
    return allowed;
  }

  public String description() {
    return description;
  }

  public String format(T value) {
    return formatter.format(value);
  }

  T parse(String raw) {
    return parser.parse(raw.trim());
  }

  @Override
  public String toString() {
    return property();
  }
}
