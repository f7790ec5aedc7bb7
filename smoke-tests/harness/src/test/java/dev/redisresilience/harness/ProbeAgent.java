package dev.redisresilience.harness;

/** A -javaagent for ForkedJvmAgentCopyTest: reports which jar file the forked JVM attached. */
public final class ProbeAgent {
  private ProbeAgent() {}

  public static void premain(String args) throws Exception {
    System.out.println(
        "AGENT from=" + ProbeAgent.class.getProtectionDomain().getCodeSource().getLocation().toURI().getPath());
  }

  public static void main(String[] args) {
    System.out.println("MAIN ran");
  }
}
