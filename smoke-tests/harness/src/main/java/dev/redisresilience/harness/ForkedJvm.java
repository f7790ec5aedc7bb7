package dev.redisresilience.harness;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A JVM forked the way a user runs an application, optionally with {@code -javaagent}. */
public final class ForkedJvm {
  private final List<String> command;
  private final Map<String, String> env;
  private final Path out;
  private final Path err;
  private Process process;

  private ForkedJvm(List<String> command, Map<String, String> env, Path out, Path err) {
    this.command = command;
    this.env = env;
    this.out = out;
    this.err = err;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The packaged agent jar (system property {@code agent.jar}, set by the build). */
  public static Path agentJar() {
    String p = System.getProperty("agent.jar");
    if (p == null) {
      Path guess = Paths.get("../../agent/dist/target/redis-resilience-agent.jar");
      if (Files.exists(guess)) {
        return guess.toAbsolutePath().normalize();
      }
      throw new IllegalStateException("system property agent.jar is not set; run through Maven");
    }
    Path jar = Paths.get(p);
    if (!Files.exists(jar)) {
      throw new IllegalStateException("agent jar " + jar + " does not exist; run `mvn package` first");
    }
    return jar;
  }

  /** Fluent set-up of a forked JVM. */
  public static final class Builder {
    private String javaHome = System.getProperty("test.java.home", System.getProperty("java.home"));
    private final List<String> jvmArgs = new ArrayList<>();
    private final Map<String, String> sysProps = new LinkedHashMap<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<String> args = new ArrayList<>();
    private String classpath;
    private String mainClass;
    private Path jar;
    private String name = "app";

    public Builder javaHome(String home) {
      this.javaHome = home;
      return this;
    }

    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /** Attaches {@code agentJar}, through this JVM's private copy of it (see PrivateJarCopy). */
    public Builder agent(Path agentJar) {
      jvmArgs.add("-javaagent:" + PrivateJarCopy.of(agentJar));
      return this;
    }

    public Builder jvmArg(String arg) {
      jvmArgs.add(arg);
      return this;
    }

    public Builder sysProp(String key, String value) {
      sysProps.put(key, value);
      return this;
    }

    public Builder env(String key, String value) {
      env.put(key, value);
      return this;
    }

    public Builder classpath(String cp) {
      this.classpath = cp;
      return this;
    }

    public Builder mainClass(String mainClass) {
      this.mainClass = mainClass;
      return this;
    }

    public Builder jar(Path executableJar) {
      this.jar = executableJar;
      return this;
    }

    public Builder args(String... a) {
      args.addAll(List.of(a));
      return this;
    }

    /** Exports to {@code receiver} with short batching and export intervals. */
    public Builder otlp(OtlpReceiver receiver, String protocol) {
      boolean grpc = protocol.equals("grpc");
      env.put("OTEL_EXPORTER_OTLP_ENDPOINT", grpc ? receiver.grpcEndpoint() : receiver.httpEndpoint());
      env.put("OTEL_EXPORTER_OTLP_PROTOCOL", protocol);
      env.put("OTEL_BSP_SCHEDULE_DELAY", "50");
      env.put("OTEL_BLRP_SCHEDULE_DELAY", "50");
      env.put("OTEL_METRIC_EXPORT_INTERVAL", "250");
      env.put("OTEL_SERVICE_NAME", name);
      return this;
    }

    public ForkedJvm build() {
      List<String> cmd = new ArrayList<>();
      cmd.add(Paths.get(javaHome, "bin", "java").toString());
      cmd.addAll(jvmArgs);
      for (Map.Entry<String, String> e : sysProps.entrySet()) {
        cmd.add("-D" + e.getKey() + "=" + e.getValue());
      }
      if (jar != null) {
        cmd.add("-jar");
        cmd.add(jar.toString());
      } else {
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(mainClass);
      }
      cmd.addAll(args);
      try {
        Path dir = Files.createDirectories(Paths.get("target", "forked"));
        Path out = Files.createTempFile(dir, name + "-", ".out");
        Path err = Files.createTempFile(dir, name + "-", ".err");
        return new ForkedJvm(cmd, env, out, err);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    public Result run(Duration timeout) {
      return build().start().await(timeout);
    }
  }

  public ForkedJvm start() {
    ProcessBuilder pb = new ProcessBuilder(command);
    // a clean environment: nothing of the test JVM's OTEL_* or agent settings leaks in
    pb.environment().keySet().removeIf(k -> k.startsWith("OTEL_") || k.startsWith("REDIS_RESILIENCE_"));
    pb.environment().keySet().removeIf(k -> k.equals("JAVA_TOOL_OPTIONS") || k.equals("JDK_JAVA_OPTIONS"));
    pb.environment().putAll(env);
    pb.redirectOutput(out.toFile());
    pb.redirectError(err.toFile());
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public String stdout() {
    return read(out);
  }

  public String stderr() {
    return read(err);
  }

  public List<String> command() {
    return command;
  }

  /** Waits for the JVM to exit; kills it and fails if it takes longer than {@code timeout}. */
  public Result await(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError(
            "forked JVM did not finish within " + timeout + "\n" + describe());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    return new Result(process.exitValue(), stdout(), stderr(), this);
  }

  public void kill() {
    if (process != null) {
      process.destroyForcibly();
    }
  }

  String describe() {
    return "command: " + String.join(" ", command) + "\n--- stdout\n" + tail(stdout())
        + "\n--- stderr\n" + tail(stderr());
  }

  private static String tail(String s) {
    return s.length() > 8000 ? "..." + s.substring(s.length() - 8000) : s;
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  /** What a finished JVM left behind. */
  public static final class Result {
    public final int exitCode;
    public final String stdout;
    public final String stderr;
    private final ForkedJvm jvm;

    Result(int exitCode, String stdout, String stderr, ForkedJvm jvm) {
      this.exitCode = exitCode;
      this.stdout = stdout;
      this.stderr = stderr;
      this.jvm = jvm;
    }

    /** Fails with the whole story (command, output) unless the JVM exited with 0. */
    public Result assertSuccess() {
      if (exitCode != 0) {
        throw new AssertionError("forked JVM exited with " + exitCode + "\n" + jvm.describe());
      }
      return this;
    }

    /** Lines of stdout starting with {@code prefix}, prefix removed. */
    public List<String> linesStartingWith(String prefix) {
      List<String> out = new ArrayList<>();
      for (String line : stdout.split("\n")) {
        if (line.startsWith(prefix)) {
          out.add(line.substring(prefix.length()).trim());
        }
      }
      return out;
    }

    /** The agent's own log lines (stderr). */
    public List<String> agentLines() {
      List<String> out = new ArrayList<>();
      for (String line : stderr.split("\n")) {
        if (line.startsWith("[redis-resilience-agent]")) {
          out.add(line);
        }
      }
      return out;
    }

    public String describe() {
      return jvm.describe();
    }
  }

  static String pathSeparator() {
    return File.pathSeparator;
  }
}
