package dev.redisresilience.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every PromQL expression the shipped files hold: each target of each panel of the Grafana
 * dashboard (with the dashboard's variables replaced by values that match everything), and each
 * alert rule's {@code expr}. Also the metric names an expression selects.
 */
public final class DashboardQueries {
  /** One expression and where it comes from (panel title, or alert name). */
  public static final class Query {
    public final String source;
    public final String unit;
    public final String legend;
    public final String expr;

    Query(String source, String unit, String legend, String expr) {
      this.source = source;
      this.unit = unit;
      this.legend = legend;
      this.expr = expr;
    }

    @Override
    public String toString() {
      return source + ": " + expr;
    }
  }

  private DashboardQueries() {}

  /**
   * The panels' expressions, variables substituted: {@code $service}, {@code $server},
   * {@code $library} (any {@code $name} / {@code ${name}}) by {@code .*}, {@code $__rate_interval}
   * by {@code rateInterval} (a PromQL duration, e.g. {@code 10s}).
   */
  public static List<Query> panels(Path dashboardJson, String rateInterval) {
    JsonNode root = read(new ObjectMapper(), dashboardJson);
    List<Query> out = new ArrayList<>();
    collect(root.path("panels"), rateInterval, out);
    return out;
  }

  private static void collect(JsonNode panels, String rateInterval, List<Query> out) {
    for (JsonNode p : panels) {
      collect(p.path("panels"), rateInterval, out); // collapsed rows nest their panels
      for (JsonNode t : p.path("targets")) {
        if (t.has("expr")) {
          out.add(
              new Query(
                  p.path("title").asText(),
                  p.path("fieldConfig").path("defaults").path("unit").asText(""),
                  t.path("legendFormat").asText(""),
                  substitute(t.path("expr").asText(), rateInterval)));
        }
      }
    }
  }

  /** The alert rules' expressions, by alert name. */
  public static List<Query> alerts(Path alertsYml) {
    JsonNode root = read(new ObjectMapper(new YAMLFactory()), alertsYml);
    List<Query> out = new ArrayList<>();
    for (JsonNode group : root.path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        out.add(new Query(rule.path("alert").asText(), "", "", rule.path("expr").asText().trim()));
      }
    }
    return out;
  }

  static String substitute(String expr, String rateInterval) {
    return expr.replace("$__rate_interval", rateInterval)
        .replace("${__rate_interval}", rateInterval)
        .replaceAll("\\$\\{[A-Za-z_][A-Za-z0-9_]*}", ".*")
        .replaceAll("\\$[A-Za-z_][A-Za-z0-9_]*", ".*");
  }

  private static final Pattern GROUPING =
      Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  private static final Pattern IDENT = Pattern.compile("[A-Za-z_:][A-Za-z0-9_:]*");
  private static final Set<String> KEYWORDS =
      Set.of("by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
          "unless", "bool", "offset", "inf", "nan");

  /** The metric names {@code expr} selects (functions, labels and keywords left out). */
  public static Set<String> metricNames(String expr) {
    String s = GROUPING.matcher(expr).replaceAll(" ");
    s = s.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\""); // string literals
    s = s.replaceAll("\\{[^}]*}", " "); // label matchers
    s = s.replaceAll("\\[[^]]*]", " "); // range selectors
    Set<String> names = new TreeSet<>();
    Matcher m = IDENT.matcher(s);
    while (m.find()) {
      String id = m.group();
      int next = m.end();
      while (next < s.length() && s.charAt(next) == ' ') {
        next++;
      }
      boolean call = next < s.length() && s.charAt(next) == '(';
      boolean number = m.start() > 0 && Character.isDigit(s.charAt(m.start() - 1));
      if (!call && !number && !KEYWORDS.contains(id.toLowerCase(java.util.Locale.ROOT))) {
        names.add(id);
      }
    }
    return names;
  }

  private static JsonNode read(ObjectMapper mapper, Path file) {
    try {
      return mapper.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
