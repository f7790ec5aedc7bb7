package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.install.HelperSetCheck;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The helper list of JedisInstrumentationModule against the module's compiled classes: every class
 * that links against Jedis types, or is nested in a helper, is injected or is advice (see
 * {@link HelperSetCheck}). A new helper class whose root is not listed fails here, not in an
 * application's class loader.
 */
class JedisHelperClassesUnitTest {
  final HelperSetCheck check = new HelperSetCheck(classes(), "redis/clients/");
  final List<String> roots = new JedisInstrumentationModule().helperClassNames();

  static Path classes() {
    try {
      return Path.of(
          JedisInstrumentationModule.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void theHelperListCoversEveryClientTypedAndNestedClass() {
    assertThat(check.violations(roots)).isEmpty();
  }

  @Test
  void aForgottenRootIsCaught() {
    assertThat(roots).isNotEmpty();
    for (String root : roots) {
      List<String> without = new ArrayList<>(roots);
      without.remove(root);
      assertThat(check.violations(without)).as("without " + root).anySatisfy(v -> assertThat(v).startsWith(root));
    }
  }
}
