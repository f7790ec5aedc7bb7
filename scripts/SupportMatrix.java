import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The README's support table, from what a test run actually ran: reads the surefire reports
 * (TEST-*.xml) under the given directories and writes one row per client, client version and JDK
 * with the agent tests run, passed, failed and skipped. The client version and the JDK come from
 * the forked test JVM's own properties in each report (client.version, set by the version's
 * surefire execution; java.specification.version, java.version, java.vm.vendor).
 *
 * <p>{@code java scripts/SupportMatrix.java <output.md> <reports-dir>...} (scripts/test.sh runs it)
 */
public final class SupportMatrix {
  /** One report's totals, keyed by what it ran on. */
  record Row(String client, String version, String jdk, int tests, int failed, int skipped) {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: java scripts/SupportMatrix.java <output.md> <reports-dir>...");
      System.exit(2);
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      try (Stream<Path> files = Files.walk(Path.of(args[i]))) {
        for (Path f : files.filter(SupportMatrix::isReport).collect(Collectors.toList())) {
          Row row = read(f);
          if (row != null) {
            rows.add(row);
          }
        }
      }
    }
    if (rows.isEmpty()) {
      System.err.println("support matrix: no agent test reports with a client.version under the given directories");
      System.exit(1);
    }
    Map<String, Row> sums = new TreeMap<>();
    for (Row r : rows) {
      sums.merge(
          r.client() + "\u0000" + r.version() + "\u0000" + r.jdk(),
          r,
          (a, b) ->
              new Row(a.client(), a.version(), a.jdk(), a.tests() + b.tests(),
                  a.failed() + b.failed(), a.skipped() + b.skipped()));
    }
    List<Row> table = new ArrayList<>(sums.values());
    table.sort(
        Comparator.comparing(Row::client)
            .thenComparing(Row::version, SupportMatrix::compareVersions)
            .thenComparing(Row::jdk));
    StringBuilder md = new StringBuilder();
    md.append("| Client | Version | JDK | Tests | Passed | Failed | Skipped |\n");
    md.append("|---|---|---|---:|---:|---:|---:|\n");
    for (Row r : table) {
      int passed = r.tests() - r.failed() - r.skipped();
      md.append(String.format("| %s | %s | %s | %d | %d | %d | %d |%n",
          r.client(), r.version(), r.jdk(), r.tests(), passed, r.failed(), r.skipped()));
    }
    md.append("\nGenerated ").append(LocalDate.now(ZoneOffset.UTC))
        .append(" by scripts/SupportMatrix.java from the surefire reports of that run.\n");
    Path out = Path.of(args[0]);
    if (out.getParent() != null) {
      Files.createDirectories(out.getParent());
    }
    Files.writeString(out, md.toString(), StandardCharsets.UTF_8);
    System.out.print(md);
  }

  private static boolean isReport(Path f) {
    String n = f.getFileName().toString();
    return n.startsWith("TEST-") && n.endsWith(".xml");
  }

  /** A report of an agent test that ran on a named client version, or null. */
  private static Row read(Path f) throws Exception {
    Element suite;
    try {
      suite = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(f.toFile())
          .getDocumentElement();
    } catch (IOException | org.xml.sax.SAXException e) {
      throw new IllegalStateException("unreadable surefire report " + f + ": " + e.getMessage(), e);
    }
    Map<String, String> props = new TreeMap<>();
    NodeList list = suite.getElementsByTagName("property");
    for (int i = 0; i < list.getLength(); i++) {
      Element p = (Element) list.item(i);
      props.put(p.getAttribute("name"), p.getAttribute("value"));
    }
    String version = props.get("client.version");
    String name = suite.getAttribute("name");
    String client =
        name.contains(".instrumentation.jedis.") ? "Jedis"
            : name.contains(".instrumentation.lettuce.") ? "Lettuce" : null;
    if (version == null || version.isEmpty() || client == null) {
      return null;
    }
    String jdk = props.get("java.specification.version") + " (" + props.get("java.version") + ", "
        + props.get("java.vm.vendor") + ")";
    int failed = count(suite, "failures") + count(suite, "errors");
    return new Row(client, version.replace(".RELEASE", ""), jdk, count(suite, "tests"), failed,
        count(suite, "skipped"));
  }

  private static int count(Element suite, String attribute) {
    String v = suite.getAttribute(attribute);
    return v.isEmpty() ? 0 : Integer.parseInt(v);
  }

  /** Newest first: 8.0.2 before 7.5.3, 6.8.2 before 6.1.10. */
  private static int compareVersions(String a, String b) {
    String[] x = a.split("[.-]");
    String[] y = b.split("[.-]");
    for (int i = 0; i < Math.max(x.length, y.length); i++) {
      int c = Integer.compare(number(y, i), number(x, i));
      if (c != 0) {
        return c;
      }
    }
    return b.compareTo(a);
  }

  private static int number(String[] parts, int i) {
    if (i >= parts.length) {
      return -1;
    }
    try {
      return Integer.parseInt(parts[i]);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
