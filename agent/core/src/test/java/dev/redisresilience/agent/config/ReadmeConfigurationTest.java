package dev.redisresilience.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The README's configuration table lists exactly the keys the agent knows, with their names. */
class ReadmeConfigurationTest {
  @Test
  void everySettingIsDocumentedAndNothingElse() throws Exception {
    Path readme = Paths.get("../../README.md");
    Map<String, String> rows = new LinkedHashMap<>();
    for (String line : Files.readAllLines(readme)) {
      String[] cells = line.split("\\|");
      if (line.startsWith("| `redis.resilience.") && cells[2].trim().startsWith("`REDIS_RESILIENCE_")) {
        String property = cells[1].trim().replace("`", "");
        String env = cells[2].trim().replace("`", "");
        rows.put(property, env);
      }
    }
    Map<String, String> expected = new LinkedHashMap<>();
    for (Setting<?> s : Settings.all()) {
      expected.put(s.property(), s.envVar());
    }
    assertThat(rows).containsExactlyInAnyOrderEntriesOf(expected);
  }
}
