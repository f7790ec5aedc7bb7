package dev.redisresilience.agent.install;

import dev.redisresilience.agent.core.Failure;

/** A helper root with what javac adds: nested, nested-in-nested, anonymous, enum switch map. */
final class HelperFixture {
  private HelperFixture() {}

  static int code(Failure.Kind kind) {
    switch (kind) { // compiles to the synthetic HelperFixture$1 holding the switch map
      case TIMEOUT:
        return 1;
      case CONNECTION:
        return 2;
      default:
        return 0;
    }
  }

  static Runnable task() {
    return new Runnable() { // HelperFixture$2
      @Override
      public void run() {}
    };
  }

  /** Declared before its superclass: defining it first would resolve Base elsewhere. */
  static final class Sub extends Base {
    static final class Deeper {}
  }

  static class Base {}
}
