package dev.redisresilience.agent.install;

import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.matcher.ElementMatchers;

/** Advice for one instrumented type. */
public interface TypeInstrumentation {
  /** Gate on a marker class of the supported client versions; default: any loader. */
  default ElementMatcher<ClassLoader> classLoaderMatcher() {
    return ElementMatchers.any();
  }

  ElementMatcher<TypeDescription> typeMatcher();

  void transform(Transformer transformer);

  /** What an instrumentation may do to its type. */
  interface Transformer {
    void applyAdvice(ElementMatcher<? super MethodDescription> methods, String adviceClassName);

    /**
     * Gives the type a private field for agent state and makes it implement {@link
     * dev.redisresilience.agent.bootstrap.StateHolder}, also when a superclass has them: the
     * type's own accessors override the superclass's, so advice of both reaches one field.
     */
    void defineStateField();

    /**
     * Makes the type implement {@link dev.redisresilience.agent.bootstrap.IntFieldReader}, reading
     * its (possibly package-private) int field {@code fieldName}.
     */
    void implementIntReader(String fieldName);
  }
}
