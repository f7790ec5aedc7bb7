package dev.redisresilience.agent.install;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The names a class file's constant pool mentions (class names, member descriptors, signatures),
 * without its string literals: everything the class can link against, read from the raw pool so
 * no reference is missed whatever instruction or attribute uses it.
 */
final class ConstantPoolNames {
  private ConstantPoolNames() {}

  static List<String> of(byte[] classFile) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(classFile))) {
      if (in.readInt() != 0xCAFEBABE) {
        throw new IllegalArgumentException("not a class file");
      }
      in.readUnsignedShort(); // minor
      in.readUnsignedShort(); // major
      int count = in.readUnsignedShort();
      String[] utf8 = new String[count];
      Set<Integer> literals = new HashSet<>();
      for (int i = 1; i < count; i++) {
        int tag = in.readUnsignedByte();
        switch (tag) {
          case 1: // Utf8
            utf8[i] = in.readUTF();
            break;
          case 8: // String: its Utf8 is a literal, not a name
            literals.add(in.readUnsignedShort());
            break;
          case 7: // Class
          case 16: // MethodType
          case 19: // Module
          case 20: // Package
            in.readUnsignedShort();
            break;
          case 15: // MethodHandle
            in.readUnsignedByte();
            in.readUnsignedShort();
            break;
          case 3: // Integer
          case 4: // Float
          case 9: // Fieldref
          case 10: // Methodref
          case 11: // InterfaceMethodref
          case 12: // NameAndType
          case 17: // Dynamic
          case 18: // InvokeDynamic
            in.readInt();
            break;
          case 5: // Long
          case 6: // Double
            in.readLong();
            i++; // takes two slots
            break;
          default:
            throw new IllegalArgumentException("unknown constant pool tag " + tag + " at " + i);
        }
      }
      List<String> names = new ArrayList<>();
      for (int i = 1; i < count; i++) {
        if (utf8[i] != null && !literals.contains(i)) {
          names.add(utf8[i]);
        }
      }
      return names;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
