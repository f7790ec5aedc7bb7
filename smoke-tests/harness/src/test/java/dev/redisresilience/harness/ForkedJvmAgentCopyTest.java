package dev.redisresilience.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Forked JVMs attach a private copy of the agent jar, never the build's file: a JVM maps its
 * agent jar, and a build rewriting it under a running fork kills the fork with SIGBUS.
 */
class ForkedJvmAgentCopyTest {
  /** A real agent jar: ProbeAgent with a manifest naming it. */
  static Path agentJar(Path dir) throws Exception {
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes().putValue("Premain-Class", ProbeAgent.class.getName());
    Path jar = dir.resolve("probe-agent.jar");
    String entry = ProbeAgent.class.getName().replace('.', '/') + ".class";
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), m)) {
      out.putNextEntry(new JarEntry(entry));
      try (var in = ProbeAgent.class.getClassLoader().getResourceAsStream(entry)) {
        in.transferTo(out);
      }
      out.closeEntry();
    }
    return jar;
  }

  @Test
  void theForkAttachesAPrivateCopyMadeOncePerJvm(@TempDir Path dir) throws Exception {
    Path built = agentJar(dir);
    ForkedJvm.Result r =
        ForkedJvm.builder()
            .name("agent-copy")
            .agent(built)
            // nothing else on the class path: main comes from the attached jar, as premain does
            .classpath(Files.createDirectories(dir.resolve("no-classes")).toString())
            .mainClass(ProbeAgent.class.getName())
            .run(Duration.ofSeconds(30))
            .assertSuccess();
    assertThat(r.linesStartingWith("MAIN ")).containsExactly("ran");
    Path attached = Path.of(r.linesStartingWith("AGENT from=").get(0));
    assertThat(attached).isNotEqualTo(built).hasSameBinaryContentAs(built);
    assertThat(attached.getParent()).isNotEqualTo(built.getParent());
    // a second fork in this JVM attaches the same copy: one copy per JVM, not per fork
    String again =
        ForkedJvm.builder().agent(built).mainClass("unused").classpath(".").build().command().get(1);
    assertThat(again).isEqualTo("-javaagent:" + attached);
    // the build may now rewrite its jar: the copy the forks use stays as it was
    byte[] before = Files.readAllBytes(attached);
    try (OutputStream out = Files.newOutputStream(built)) {
      out.write("rewritten by a build".getBytes());
    }
    assertThat(Files.readAllBytes(attached)).isEqualTo(before);
  }
}
