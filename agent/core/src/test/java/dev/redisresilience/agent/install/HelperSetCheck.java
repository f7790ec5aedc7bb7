package dev.redisresilience.agent.install;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.FieldVisitor;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.Type;

/**
 * Checks an instrumentation module's compiled classes against its helper list, the way the agent
 * loads them: helpers (the roots plus what {@link HelperClasses} adds) are defined in the client's
 * class loader; advice is inlined into client classes; every other class is loaded once, from the
 * agent's loader (bootstrap), where no client type exists. So:
 *
 * <ul>
 *   <li>a class that links against client types must be a helper or advice/instrumentation;
 *   <li>a class nested in a helper must be a helper (package-private access between them only
 *       works inside one class loader);
 *   <li>a non-helper must not use a helper (it would get the agent's copy, bound to no client);
 *   <li>a helper may use non-helpers of its package only through public members (in the client's
 *       loader it is another runtime package: IllegalAccessError otherwise).
 * </ul>
 */
public final class HelperSetCheck {
  private final Path classes;
  private final List<String> clientPackages;
  private final Map<String, ClassInfo> all = new TreeMap<>();

  /**
   * @param classes the module's compiled classes (target/classes)
   * @param clientPackages internal-name prefixes of the client, e.g. {@code redis/clients/}
   */
  public HelperSetCheck(Path classes, String... clientPackages) {
    this.classes = classes;
    this.clientPackages = List.of(clientPackages);
    try (Stream<Path> files = Files.walk(classes)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".class")).collect(Collectors.toList())) {
        ClassInfo c = ClassInfo.read(Files.readAllBytes(f));
        all.put(c.name, c);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (all.isEmpty()) {
      throw new IllegalStateException("no classes under " + classes);
    }
  }

  /** Every class the module has, by binary name. */
  public Set<String> classNames() {
    return all.keySet();
  }

  /** The problems with this helper list; empty when the list is right. */
  public List<String> violations(List<String> helperRoots) {
    List<String> problems = new ArrayList<>();
    Set<String> helpers =
        new LinkedHashSet<>(
            HelperClasses.expand(
                helperRoots,
                n -> {
                  ClassInfo c = all.get(n);
                  if (c == null) {
                    throw new IllegalStateException("helper root not in " + classes + ": " + n);
                  }
                  return c.bytes;
                }));
    for (ClassInfo c : all.values()) {
      if (helpers.contains(c.name) || isAdviceOrModule(c)) {
        continue;
      }
      String client = c.clientReference(clientPackages);
      if (client != null) {
        problems.add(c.name + " uses client type " + client + " but is not a helper");
      }
      for (String root : helperRoots) {
        if (c.name.startsWith(root + "$")) {
          problems.add(c.name + " is nested in helper " + root + " but is not injected with it");
        }
      }
      for (String used : c.usedClasses) {
        if (helpers.contains(used)) {
          problems.add(c.name + " is not a helper but uses helper " + used);
        }
      }
    }
    for (String h : helpers) {
      ClassInfo c = all.get(h);
      for (Member m : c.usedMembers) {
        ClassInfo owner = all.get(m.owner);
        if (owner == null || helpers.contains(owner.name) || !samePackage(c.name, owner.name)) {
          continue;
        }
        if ((owner.access & Opcodes.ACC_PUBLIC) == 0) {
          problems.add("helper " + h + " uses non-public " + owner.name + " (another runtime package in the client's loader)");
        } else if (m.name != null) {
          Integer access = owner.memberAccess.get(m.name + m.descriptor);
          if (access != null && (access & Opcodes.ACC_PUBLIC) == 0) {
            problems.add("helper " + h + " uses non-public " + owner.name + "." + m.name + " (another runtime package in the client's loader)");
          }
        }
      }
    }
    return problems;
  }

  /** Advice is inlined (never loaded in the client's loader); instrumentation classes and the module run in the agent. */
  private boolean isAdviceOrModule(ClassInfo c) {
    int dollar = c.name.indexOf('$');
    ClassInfo top = dollar < 0 ? c : all.get(c.name.substring(0, dollar));
    return top != null
        && (top.interfaces.contains(TypeInstrumentation.class.getName())
            || top.interfaces.contains(InstrumentationModule.class.getName()));
  }

  private static boolean samePackage(String a, String b) {
    return a.substring(0, a.lastIndexOf('.')).equals(b.substring(0, b.lastIndexOf('.')));
  }

  /** A class or member another class uses; name null for a type alone. */
  private static final class Member {
    final String owner;
    final String name;
    final String descriptor;

    Member(String owner, String name, String descriptor) {
      this.owner = owner;
      this.name = name;
      this.descriptor = descriptor;
    }
  }

  private static final class ClassInfo {
    byte[] bytes;
    String name;
    int access;
    final List<String> interfaces = new ArrayList<>();
    final List<String> poolNames = new ArrayList<>();
    final Set<String> usedClasses = new LinkedHashSet<>();
    final List<Member> usedMembers = new ArrayList<>();
    final Map<String, Integer> memberAccess = new HashMap<>();

    static ClassInfo read(byte[] bytes) {
      ClassInfo c = new ClassInfo();
      c.bytes = bytes;
      c.poolNames.addAll(ConstantPoolNames.of(bytes));
      new ClassReader(bytes).accept(c.visitor(), ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
      return c;
    }

    /** The first client type the class links against, or null. */
    String clientReference(List<String> clientPackages) {
      for (String n : poolNames) {
        for (String p : clientPackages) {
          if (n.startsWith(p) || n.contains("L" + p)) {
            return n;
          }
        }
      }
      return null;
    }

    private void use(String internalName, String member, String descriptor) {
      if (internalName.startsWith("[")) {
        Type t = Type.getType(internalName).getElementType();
        if (t.getSort() != Type.OBJECT) {
          return;
        }
        internalName = t.getInternalName();
      }
      String binary = internalName.replace('/', '.');
      usedClasses.add(binary);
      usedMembers.add(new Member(binary, member, descriptor));
    }

    private ClassVisitor visitor() {
      return new ClassVisitor(Opcodes.ASM9) {
        @Override
        public void visit(int version, int acc, String n, String sig, String superName, String[] ifaces) {
          name = n.replace('/', '.');
          access = acc;
          if (superName != null) {
            use(superName, null, null);
          }
          for (String i : ifaces) {
            interfaces.add(i.replace('/', '.'));
            use(i, null, null);
          }
        }

        @Override
        public void visitInnerClass(String n, String outer, String inner, int acc) {
          if (n.replace('/', '.').equals(name)) { // a nested class' declared visibility
            access = (access & ~Opcodes.ACC_PUBLIC) | (acc & Opcodes.ACC_PUBLIC);
          }
        }

        @Override
        public FieldVisitor visitField(int acc, String n, String desc, String sig, Object value) {
          memberAccess.put(n + desc, acc);
          return null;
        }

        @Override
        public MethodVisitor visitMethod(int acc, String n, String desc, String sig, String[] exceptions) {
          memberAccess.put(n + desc, acc);
          return new MethodVisitor(Opcodes.ASM9) {
            @Override
            public void visitTypeInsn(int opcode, String type) {
              use(type, null, null);
            }

            @Override
            public void visitFieldInsn(int opcode, String owner, String fn, String fdesc) {
              use(owner, fn, fdesc);
            }

            @Override
            public void visitMethodInsn(int opcode, String owner, String mn, String mdesc, boolean itf) {
              use(owner, mn, mdesc);
            }

            @Override
            public void visitLdcInsn(Object value) {
              if (value instanceof Type && ((Type) value).getSort() == Type.OBJECT) {
                use(((Type) value).getInternalName(), null, null);
              }
            }
          };
        }
      };
    }
  }
}
