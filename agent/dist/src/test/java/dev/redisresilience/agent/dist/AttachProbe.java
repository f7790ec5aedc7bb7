package dev.redisresilience.agent.dist;

/**
 * The application of AgentJarIT's forked JVM: waits (bounded) for the agent's set-up thread to
 * finish, so the JVM exits with the agent fully started, and says what it saw.
 */
public final class AttachProbe {
  private AttachProbe() {}

  public static void main(String[] args) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (setUpRunning() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    System.out.println("PROBE set-up-finished=" + !setUpRunning());
    System.out.println("PROBE agent-on-boot-path=" + onBootPath("dev.redisresilience.agent.Premain"));
    java.util.Set<String> threads = new java.util.TreeSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      threads.add(t.getName().replaceAll("-?\\d+$", "")); // numbered pool threads once
    }
    System.out.println("PROBE threads=" + String.join(",", threads));
  }

  private static boolean setUpRunning() {
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals("redis-resilience-agent-set-up")) {
        return true;
      }
    }
    return false;
  }

  private static boolean onBootPath(String className) {
    try {
      return Class.forName(className, false, null).getClassLoader() == null;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }
}
