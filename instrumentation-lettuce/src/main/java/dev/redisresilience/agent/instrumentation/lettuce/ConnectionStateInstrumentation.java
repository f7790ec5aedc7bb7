package dev.redisresilience.agent.instrumentation.lettuce;

import static net.bytebuddy.matcher.ElementMatchers.named;

import dev.redisresilience.agent.install.TypeInstrumentation;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;

/** Exposes {@code ConnectionState.db} (package-private getter) for db.namespace. */
final class ConnectionStateInstrumentation implements TypeInstrumentation {
  @Override
  public ElementMatcher<ClassLoader> classLoaderMatcher() {
    return LettuceInstrumentationModule.LETTUCE_6_1_PLUS;
  }

  @Override
  public ElementMatcher<TypeDescription> typeMatcher() {
    return named("io.lettuce.core.ConnectionState");
  }

  @Override
  public void transform(Transformer t) {
    t.implementIntReader("db");
  }
}
