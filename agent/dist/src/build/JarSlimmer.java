import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Enumeration;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import net.bytebuddy.jar.asm.AnnotationVisitor;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;

/**
 * A build step of agent/dist (run by exec-maven-plugin with the java source launcher, after the
 * shade step): rewrites the shaded jar in place. In the relocated third-party classes only, it
 * drops what no code reads at run time: local variable tables (debuggers; line numbers stay, so
 * stack traces keep their lines), Kotlin's {@code @Metadata} (read by kotlin-reflect only, which
 * the jar does not bundle) and SMAP {@code SourceDebugExtension} (debuggers). Every entry is kept,
 * in order, deflated at level 9. The agent's own classes are copied as they are.
 *
 * <p>Arguments: the jar, the shade prefix (dev.redisresilience.agent.shaded).
 */
public final class JarSlimmer {
  public static void main(String[] args) throws IOException {
    Path jar = Paths.get(args[0]);
    String shaded = args[1].replace('.', '/') + "/";
    String kotlinMetadata = "L" + shaded + "kotlin/Metadata;";
    Path tmp = jar.resolveSibling(jar.getFileName() + ".slim");
    long before = Files.size(jar);
    try (ZipFile in = new ZipFile(jar.toFile());
        OutputStream file = Files.newOutputStream(tmp);
        ZipOutputStream out = new ZipOutputStream(file)) {
      out.setLevel(Deflater.BEST_COMPRESSION);
      for (Enumeration<? extends ZipEntry> e = in.entries(); e.hasMoreElements(); ) {
        ZipEntry entry = e.nextElement();
        byte[] bytes;
        try (InputStream s = in.getInputStream(entry)) {
          bytes = s.readAllBytes();
        }
        String name = entry.getName();
        if (name.startsWith(shaded) && name.endsWith(".class")) {
          bytes = slim(bytes, kotlinMetadata);
        }
        ZipEntry copy = new ZipEntry(name);
        copy.setTime(entry.getTime());
        out.putNextEntry(copy);
        out.write(bytes);
        out.closeEntry();
      }
    }
    Files.move(tmp, jar, StandardCopyOption.REPLACE_EXISTING);
    System.out.println("[slim] " + jar.getFileName() + ": " + before + " -> " + Files.size(jar) + " bytes");
  }

  static byte[] slim(byte[] classFile, String kotlinMetadata) {
    ClassReader reader = new ClassReader(classFile);
    ClassWriter writer = new ClassWriter(0); // no frames recomputed: the code is unchanged
    reader.accept(
        new ClassVisitor(Opcodes.ASM9, writer) {
          @Override
          public void visitSource(String source, String debug) {
            super.visitSource(source, null); // the file name stays (stack traces), SMAP goes
          }

          @Override
          public AnnotationVisitor visitAnnotation(String descriptor, boolean visible) {
            return descriptor.equals(kotlinMetadata) ? null : super.visitAnnotation(descriptor, visible);
          }

          @Override
          public MethodVisitor visitMethod(
              int access, String name, String descriptor, String signature, String[] exceptions) {
            return new MethodVisitor(Opcodes.ASM9, super.visitMethod(access, name, descriptor, signature, exceptions)) {
              @Override
              public void visitLocalVariable(
                  String n, String d, String s, Label start, Label end, int index) {
                // dropped: LocalVariableTable and LocalVariableTypeTable
              }
            };
          }
        },
        0);
    return writer.toByteArray();
  }
}
