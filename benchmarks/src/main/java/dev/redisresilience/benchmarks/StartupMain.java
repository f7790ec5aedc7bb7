package dev.redisresilience.benchmarks;

/**
 * The start-up workload: a trivial main that prints one line and returns. The driver times the
 * whole JVM run, process start to exit, which includes agent premain and the agents' shutdown.
 * The line carries the wall-clock time at which main() began, so the driver can also report the
 * time to main().
 */
public final class StartupMain {
  private StartupMain() {}

  public static void main(String[] args) {
    System.out.println("started at " + System.currentTimeMillis());
  }
}
