package dev.redisresilience.agent.install;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.bootstrap.IntFieldReader;
import dev.redisresilience.agent.bootstrap.StateHolder;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.dynamic.loading.ClassLoadingStrategy;
import net.bytebuddy.dynamic.scaffold.MethodGraph;
import net.bytebuddy.pool.TypePool;
import org.junit.jupiter.api.Test;

/** The accessors the agent writes into a decorated client class, as the weaver applies them. */
class AccessorWriterTest {
  private static Class<?> decorate(List<net.bytebuddy.asm.AsmVisitorWrapper> wrappers) {
    DynamicType.Builder<?> b =
        new ByteBuddy()
            .with(MethodGraph.Compiler.ForDeclaredMethods.INSTANCE)
            .decorate(AccessorWriterSample.class);
    for (net.bytebuddy.asm.AsmVisitorWrapper w : wrappers) {
      b = b.visit(w);
    }
    // a fresh child loader, as an application's class loader would define the client class
    return b.make()
        .load(new ClassLoader(AccessorWriterTest.class.getClassLoader()) {},
            ClassLoadingStrategy.Default.CHILD_FIRST)
        .getLoaded();
  }

  @Test
  void stateFieldAndIntReaderWorkOnTheLoadedClass() throws Exception {
    List<net.bytebuddy.asm.AsmVisitorWrapper> w = new ArrayList<>();
    w.add(AccessorWriter.stateField());
    w.add(AccessorWriter.intReader("db"));
    Class<?> c = decorate(w);
    Object o = c.getDeclaredConstructor().newInstance();
    assertThat(o).isInstanceOf(StateHolder.class).isInstanceOf(IntFieldReader.class);
    StateHolder h = (StateHolder) o;
    assertThat(h.__rraState()).isNull();
    h.__rraSetState("x");
    assertThat(h.__rraState()).isEqualTo("x");
    assertThat(((IntFieldReader) o).__rraReadInt()).isEqualTo(7);
    Field f = c.getDeclaredField(AccessorWriter.STATE_FIELD);
    assertThat(f.isSynthetic()).isTrue();
    assertThat(java.lang.reflect.Modifier.isTransient(f.getModifiers())).isTrue();
    assertThat(java.lang.reflect.Modifier.isVolatile(f.getModifiers())).isTrue();
    // the generic signature still parses and names the added interfaces last
    assertThat(c.getGenericInterfaces()).hasSize(3);
    assertThat(c.getGenericInterfaces()[0].getTypeName()).contains("Comparable");
    assertThat(c.getTypeParameters()).hasSize(1);
  }

  @Test
  void askingTwiceForTheStateFieldWritesItOnce() throws Exception {
    List<net.bytebuddy.asm.AsmVisitorWrapper> w = new ArrayList<>();
    w.add(AccessorWriter.stateField());
    w.add(AccessorWriter.stateField()); // two instrumentations matching one type
    Class<?> c = decorate(w); // a duplicate field or method would fail here (ClassFormatError)
    StateHolder h = (StateHolder) c.getDeclaredConstructor().newInstance();
    h.__rraSetState(42);
    assertThat(h.__rraState()).isEqualTo(42);
  }

  @Test
  void aSubclassWithItsOwnStateFieldServesItsSuperclasssAdviceToo() throws Exception {
    // the weaver gives every matched type its field, also one whose superclass has one
    DynamicType.Unloaded<?> base =
        new ByteBuddy()
            .with(MethodGraph.Compiler.ForDeclaredMethods.INSTANCE)
            .decorate(AccessorWriterSample.class)
            .visit(AccessorWriter.stateField())
            .make();
    DynamicType.Unloaded<?> sub =
        new ByteBuddy()
            .with(MethodGraph.Compiler.ForDeclaredMethods.INSTANCE)
            .decorate(AccessorWriterSubSample.class)
            .visit(AccessorWriter.stateField())
            .make();
    Class<?> c =
        base.include(sub)
            .load(new ClassLoader(AccessorWriterTest.class.getClassLoader()) {},
                ClassLoadingStrategy.Default.CHILD_FIRST)
            .getLoaded()
            .getClassLoader()
            .loadClass(AccessorWriterSubSample.class.getName());
    assertThat(c.getSuperclass().getDeclaredField(AccessorWriter.STATE_FIELD)).isNotNull();
    assertThat(c.getDeclaredField(AccessorWriter.STATE_FIELD)).isNotNull();
    Object o = c.getDeclaredConstructor().newInstance();
    ((StateHolder) o).__rraSetState("call");
    // the superclass's code reads what the subclass's accessor wrote: one field in use
    assertThat(c.getMethod("stateSeenBySuperclass").invoke(o)).isEqualTo("call");
    assertThat(((StateHolder) o).__rraState()).isEqualTo("call");
  }

  @Test
  void findsOnlyAnInstanceIntField() {
    TypePool pool = TypePool.Default.ofSystemLoader();
    net.bytebuddy.description.type.TypeDescription t = pool.describe(AccessorWriterSample.class.getName()).resolve();
    assertThat(AccessorWriter.declaresIntField(t, "db")).isTrue();
    assertThat(AccessorWriter.declaresIntField(t, "value")).isFalse();
    assertThat(AccessorWriter.declaresIntField(t, "missing")).isFalse();
  }
}
