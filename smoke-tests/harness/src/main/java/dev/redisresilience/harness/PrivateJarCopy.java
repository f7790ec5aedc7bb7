package dev.redisresilience.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A private copy, made once per test JVM, of a jar that forked JVMs attach with -javaagent. A JVM
 * maps its agent jar (it is on the boot class path); if a build rewrites that file meanwhile, the
 * JVM dies of SIGBUS. Forks therefore never use the build's own file.
 */
public final class PrivateJarCopy {
  private static final Map<Path, Path> COPIES = new HashMap<>();

  private PrivateJarCopy() {}

  /** The copy of {@code jar} for this JVM (same file name, in a directory of its own). */
  public static synchronized Path of(Path jar) {
    Path source = jar.toAbsolutePath().normalize();
    return COPIES.computeIfAbsent(source, PrivateJarCopy::copy);
  }

  private static Path copy(Path source) {
    try {
      Path dir = Files.createTempDirectory("forked-agent-");
      dir.toFile().deleteOnExit();
      Path copy = Files.copy(source, dir.resolve(source.getFileName()));
      copy.toFile().deleteOnExit(); // registered last, deleted first
      return copy;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy " + source, e);
    }
  }
}
