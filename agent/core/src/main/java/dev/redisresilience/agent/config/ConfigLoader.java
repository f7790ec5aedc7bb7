package dev.redisresilience.agent.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Resolves every {@link Setting} with precedence system property &gt; environment variable &gt;
 * config file &gt; default. Never throws: every unknown key or invalid value becomes one line in
 * {@link AgentConfig#problems()} and the default is used, so a typo cannot stop the application.
 */
public final class ConfigLoader {
  private static final String ENV_PREFIX = Setting.envName(Setting.PREFIX);

  private ConfigLoader() {}

  public static AgentConfig fromEnvironment() {
    Map<String, String> props = new HashMap<>();
    for (String name : System.getProperties().stringPropertyNames()) {
      if (name.startsWith(Setting.PREFIX)) {
        props.put(name, System.getProperty(name));
      }
    }
    return load(props, System.getenv());
  }

  public static AgentConfig load(Map<String, String> systemProperties, Map<String, String> env) {
    List<String> problems = new ArrayList<>();
    Map<String, Setting<?>> byProperty = new HashMap<>();
    Map<String, Setting<?>> byEnv = new HashMap<>();
    for (Setting<?> s : Settings.all()) {
      byProperty.put(s.property(), s);
      byEnv.put(s.envVar(), s);
    }

    // raw values per setting, highest precedence wins
    Map<Setting<?>, String> raw = new HashMap<>();
    Map<Setting<?>, String> origin = new HashMap<>();

    String file = firstNonEmpty(
        systemProperties.get(Settings.CONFIG_FILE.property()),
        env.get(Settings.CONFIG_FILE.envVar()));
    if (file != null) {
      for (Map.Entry<String, String> e : readFile(file, problems).entrySet()) {
        Setting<?> s = byProperty.get(e.getKey());
        if (s == null) {
          problems.add(unknownKey(e.getKey(), "config file " + file, byProperty));
        } else if (s != Settings.CONFIG_FILE) {
          raw.put(s, e.getValue());
          origin.put(s, "config file");
        }
      }
    }
    for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
      if (!e.getKey().startsWith(ENV_PREFIX)) {
        continue;
      }
      Setting<?> s = byEnv.get(e.getKey());
      if (s == null) {
        problems.add(unknownKey(e.getKey(), "environment", byProperty));
      } else {
        raw.put(s, e.getValue());
        origin.put(s, "environment");
      }
    }
    for (Map.Entry<String, String> e : new TreeMap<>(systemProperties).entrySet()) {
      if (!e.getKey().startsWith(Setting.PREFIX)) {
        continue;
      }
      Setting<?> s = byProperty.get(e.getKey());
      if (s == null) {
        problems.add(unknownKey(e.getKey(), "system property", byProperty));
      } else {
        raw.put(s, e.getValue());
        origin.put(s, "system property");
      }
    }

    List<Setting<?>> all = Settings.all();
    Object[] values = new Object[all.size()];
    List<String> nonDefaults = new ArrayList<>();
    for (Setting<?> s : all) {
      values[s.index] = resolve(s, raw.get(s), origin.get(s), problems, nonDefaults);
    }
    return new AgentConfig(values, nonDefaults, problems);
  }

  private static <T> T resolve(
      Setting<T> s, String raw, String origin, List<String> problems, List<String> nonDefaults) {
    if (raw == null) {
      return s.defaultValue();
    }
    T value;
    try {
      value = s.parse(raw);
    } catch (IllegalArgumentException e) {
      problems.add(
          "invalid value for "
              + s.property()
              + " ("
              + origin
              + "): \""
              + raw
              + "\" - "
              + e.getMessage()
              + "; using the default "
              + (s.format(s.defaultValue()).isEmpty() ? "(none)" : s.format(s.defaultValue())));
      return s.defaultValue();
    }
    if (!Objects.equals(value, s.defaultValue())) {
      nonDefaults.add(s.key() + "=" + s.format(value) + " (" + origin + ")");
    }
    return value;
  }

  private static Map<String, String> readFile(String file, List<String> problems) {
    Map<String, String> out = new TreeMap<>();
    Path path = Paths.get(file);
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(path)) {
      p.load(in);
    } catch (IOException | RuntimeException e) {
      problems.add(
          "cannot read config file "
              + file
              + " ("
              + e.getClass().getSimpleName()
              + (e.getMessage() == null ? "" : ": " + e.getMessage())
              + "); continuing with system properties, environment and defaults");
      return out;
    }
    for (String name : p.stringPropertyNames()) {
      out.put(name.trim(), p.getProperty(name));
    }
    return out;
  }

  private static String unknownKey(String key, String where, Map<String, Setting<?>> known) {
    String hint = "";
    String property = key.contains(".") ? key : key.toLowerCase().replace('_', '.');
    int best = Integer.MAX_VALUE;
    for (String candidate : known.keySet()) {
      int d = distance(normalize(property), normalize(candidate));
      if (d < best) {
        best = d;
        hint = candidate;
      }
    }
    return "unknown key "
        + key
        + " ("
        + where
        + "); ignored"
        + (best <= 3 ? " - did you mean " + hint + "?" : "");
  }

  private static String normalize(String s) {
    return s.toLowerCase().replace('_', '.').replace('-', '.');
  }

  private static String firstNonEmpty(String a, String b) {
    if (a != null && !a.trim().isEmpty()) {
      return a.trim();
    }
    if (b != null && !b.trim().isEmpty()) {
      return b.trim();
    }
    return null;
  }

  /** Levenshtein distance, for "did you mean" hints on unknown keys. */
  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
