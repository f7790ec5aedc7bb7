package dev.redisresilience.agent.install;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.Opcodes;

/**
 * Expands a module's helper roots into every class that must be injected with them: the roots'
 * nested, local, anonymous and synthetic classes ({@code Root$Inner}, {@code Root$1} for an enum
 * switch map, {@code Root$Inner$Deeper}), read from the class files' NestMembers and InnerClasses
 * attributes, transitively. A helper and its nested classes share package-private access, which
 * only works when both live in the same class loader; one left on the bootstrap path throws
 * IllegalAccessError inside the client's loader. Modules therefore name roots only, and nothing
 * the compiler adds can be forgotten.
 *
 * <p>The result is in define order: a helper's superclass and interfaces that are helpers too come
 * before it, so defining it never resolves them to the agent's own (bootstrap) copies.
 */
final class HelperClasses {
  private HelperClasses() {}

  /**
   * @param roots binary names ({@code a.b.Root})
   * @param classBytes the class file of a binary name; throws if the agent has no such class
   */
  static List<String> expand(List<String> roots, Function<String, byte[]> classBytes) {
    Map<String, Info> found = new LinkedHashMap<>();
    List<String> queue = new ArrayList<>(roots);
    while (!queue.isEmpty()) {
      String name = queue.remove(queue.size() - 1);
      if (found.containsKey(name)) {
        continue;
      }
      Info info = read(classBytes.apply(name));
      found.put(name, info);
      for (String nested : info.nested) {
        if (nestedInAny(nested, roots) && !found.containsKey(nested)) {
          queue.add(nested);
        }
      }
    }
    // roots first, in the module's order, then their nested classes; supertypes before subtypes
    List<String> order = new ArrayList<>();
    Set<String> visiting = new LinkedHashSet<>();
    for (String root : roots) {
      place(root, found, order, visiting);
    }
    for (String name : found.keySet()) {
      place(name, found, order, visiting);
    }
    return order;
  }

  private static boolean nestedInAny(String name, List<String> roots) {
    for (String root : roots) {
      if (name.startsWith(root + "$")) {
        return true;
      }
    }
    return false;
  }

  private static void place(String name, Map<String, Info> found, List<String> order, Set<String> visiting) {
    if (order.contains(name) || !visiting.add(name)) {
      return;
    }
    for (String superType : found.get(name).superTypes) {
      if (found.containsKey(superType)) {
        place(superType, found, order, visiting);
      }
    }
    order.add(name);
  }

  /** What one class file says about its nest and its supertypes (binary names). */
  private static final class Info {
    final List<String> nested = new ArrayList<>();
    final List<String> superTypes = new ArrayList<>();
  }

  private static Info read(byte[] classFile) {
    Info info = new Info();
    new ClassReader(classFile)
        .accept(
            new ClassVisitor(Opcodes.ASM9) {
              @Override
              public void visit(
                  int version, int access, String name, String signature, String superName, String[] interfaces) {
                if (superName != null) {
                  info.superTypes.add(binary(superName));
                }
                if (interfaces != null) {
                  for (String i : interfaces) {
                    info.superTypes.add(binary(i));
                  }
                }
              }

              @Override
              public void visitNestMember(String nestMember) {
                info.nested.add(binary(nestMember));
              }

              @Override
              public void visitInnerClass(String name, String outerName, String innerName, int access) {
                info.nested.add(binary(name));
              }
            },
            ClassReader.SKIP_CODE | ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
    return info;
  }

  private static String binary(String internalName) {
    return internalName.replace('/', '.');
  }
}
