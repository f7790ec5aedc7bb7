package dev.redisresilience.agent.install;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import net.bytebuddy.dynamic.ClassFileLocator;
import org.junit.jupiter.api.Test;

class HelperClassesTest {
  static final ClassFileLocator CLASSES =
      ClassFileLocator.ForClassLoader.of(HelperClassesTest.class.getClassLoader());
  static final String ROOT = HelperFixture.class.getName();

  static List<String> expand(String... roots) {
    return HelperClasses.expand(List.of(roots), n -> HelperInjector.readClassFile(CLASSES, n));
  }

  @Test
  void aRootBringsEveryNestedAndSyntheticClassSupertypesFirst() {
    List<String> order = expand(ROOT);
    assertThat(order)
        .containsExactlyInAnyOrder(
            ROOT,
            ROOT + "$1", // the enum switch map
            ROOT + "$2", // the anonymous Runnable
            ROOT + "$Sub",
            ROOT + "$Sub$Deeper",
            ROOT + "$Base");
    assertThat(order.get(0)).isEqualTo(ROOT);
    assertThat(order.indexOf(ROOT + "$Base")).isLessThan(order.indexOf(ROOT + "$Sub"));
  }

  @Test
  void classesOutsideTheRootsAreNotPulledIn() {
    // HelperFixture names Failure$Kind in its InnerClasses attribute: not a helper
    assertThat(expand(ROOT)).allSatisfy(n -> assertThat(n).startsWith(ROOT));
  }

  @Test
  void aMissingRootIsAnError() {
    assertThatThrownBy(() -> expand(ROOT + "Missing"))
        .hasMessageContaining("helper class not found in the agent: " + ROOT + "Missing");
  }
}
