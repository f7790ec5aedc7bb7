package dev.redisresilience.agent.instrumentation.lettuce;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.install.HelperSetCheck;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The helper list of LettuceInstrumentationModule against the module's compiled classes: every class
 * that links against Lettuce types, or is nested in a helper, is injected or is advice (see
 * {@link HelperSetCheck}). A new helper class whose root is not listed fails here, not in an
 * application's class loader.
 */
class LettuceHelperClassesUnitTest {
  final HelperSetCheck check = new HelperSetCheck(classes(), "io/lettuce/");
  final List<String> roots = new LettuceInstrumentationModule().helperClassNames();

  static Path classes() {
    try {
      return Path.of(
          LettuceInstrumentationModule.class.getProtectionDomain().getCodeSource().getLocation().toURI());
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
