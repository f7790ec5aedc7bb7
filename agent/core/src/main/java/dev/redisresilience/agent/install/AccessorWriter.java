package dev.redisresilience.agent.install;

import dev.redisresilience.agent.bootstrap.IntFieldReader;
import dev.redisresilience.agent.bootstrap.StateHolder;
import java.util.Arrays;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.field.FieldList;
import net.bytebuddy.description.method.MethodList;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.Type;
import net.bytebuddy.pool.TypePool;
import net.bytebuddy.utility.OpenedClassReader;

/**
 * Writes the agent's accessors into a client class as it passes through: the interface, the field
 * and straight-line accessor methods (no branches, so no stack map frames). Done in ASM rather than
 * with ByteBuddy's {@code defineField}/{@code implement}, because those need the type redefined
 * through its full method graph, which for Jedis's command classes costs a second and ~200 MB of
 * garbage at first load; a decorated type only runs visitors.
 */
final class AccessorWriter {
  private AccessorWriter() {}

  static final String STATE_FIELD = "__rra$state";

  private static final String OBJECT = "Ljava/lang/Object;";

  /** A private volatile transient Object field and {@link StateHolder}'s two methods over it. */
  static AsmVisitorWrapper stateField() {
    return new Wrapper(Type.getInternalName(StateHolder.class)) {
      @Override
      void addMembers(ClassVisitor cv, String owner) {
        cv.visitField(
                Opcodes.ACC_PRIVATE
                    | Opcodes.ACC_TRANSIENT
                    | Opcodes.ACC_VOLATILE
                    | Opcodes.ACC_SYNTHETIC,
                STATE_FIELD,
                OBJECT,
                null,
                null)
            .visitEnd();
        MethodVisitor get = cv.visitMethod(Opcodes.ACC_PUBLIC, "__rraState", "()" + OBJECT, null, null);
        get.visitCode();
        get.visitVarInsn(Opcodes.ALOAD, 0);
        get.visitFieldInsn(Opcodes.GETFIELD, owner, STATE_FIELD, OBJECT);
        get.visitInsn(Opcodes.ARETURN);
        get.visitMaxs(1, 1);
        get.visitEnd();
        MethodVisitor set =
            cv.visitMethod(Opcodes.ACC_PUBLIC, "__rraSetState", "(" + OBJECT + ")V", null, null);
        set.visitCode();
        set.visitVarInsn(Opcodes.ALOAD, 0);
        set.visitVarInsn(Opcodes.ALOAD, 1);
        set.visitFieldInsn(Opcodes.PUTFIELD, owner, STATE_FIELD, OBJECT);
        set.visitInsn(Opcodes.RETURN);
        set.visitMaxs(2, 2);
        set.visitEnd();
      }
    };
  }

  /** {@link IntFieldReader} over the type's own int field {@code field}. */
  static AsmVisitorWrapper intReader(String field) {
    return new Wrapper(Type.getInternalName(IntFieldReader.class)) {
      @Override
      void addMembers(ClassVisitor cv, String owner) {
        MethodVisitor read = cv.visitMethod(Opcodes.ACC_PUBLIC, "__rraReadInt", "()I", null, null);
        read.visitCode();
        read.visitVarInsn(Opcodes.ALOAD, 0);
        read.visitFieldInsn(Opcodes.GETFIELD, owner, field, "I");
        read.visitInsn(Opcodes.IRETURN);
        read.visitMaxs(1, 1);
        read.visitEnd();
      }
    };
  }

  /** Whether {@code type} declares a non-static int field {@code name}. */
  static boolean declaresIntField(TypeDescription type, String name) {
    for (FieldDescription.InDefinedShape f : type.getDeclaredFields()) {
      if (f.getName().equals(name) && !f.isStatic() && f.getType().represents(int.class)) {
        return true;
      }
    }
    return false;
  }

  /** Adds one interface in {@code visit} and members in {@code visitEnd}. */
  private abstract static class Wrapper extends AsmVisitorWrapper.AbstractBase {
    private final String iface;

    Wrapper(String iface) {
      this.iface = iface;
    }

    abstract void addMembers(ClassVisitor cv, String owner);

    @Override
    public ClassVisitor wrap(
        TypeDescription instrumentedType,
        ClassVisitor classVisitor,
        Implementation.Context implementationContext,
        TypePool typePool,
        FieldList<FieldDescription.InDefinedShape> fields,
        MethodList<?> methods,
        int writerFlags,
        int readerFlags) {
      return new ClassVisitor(OpenedClassReader.ASM_API, classVisitor) {
        private String owner;
        private boolean added;

        @Override
        public void visit(
            int version,
            int access,
            String name,
            String signature,
            String superName,
            String[] interfaces) {
          owner = name;
          String[] with = interfaces == null ? new String[0] : interfaces;
          if (!Arrays.asList(with).contains(iface)) {
            added = true;
            with = Arrays.copyOf(with, with.length + 1);
            with[with.length - 1] = iface;
            if (signature != null) {
              // a generic class keeps a signature that names the interface too
              signature = signature + "L" + iface + ";";
            }
          }
          super.visit(version, access, name, signature, superName, with);
        }

        @Override
        public void visitEnd() {
          // a type that has the interface already has its members (two instrumentations asking
          // for it): writing them twice would be a class the JVM refuses to load
          if (added) {
            addMembers(cv, owner);
          }
          super.visitEnd();
        }
      };
    }
  }
}
