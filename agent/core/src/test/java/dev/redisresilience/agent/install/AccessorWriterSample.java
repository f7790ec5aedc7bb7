package dev.redisresilience.agent.install;

/** Stands in for a client class in AccessorWriterTest: generic, with a package-private int field. */
public class AccessorWriterSample<T> implements Comparable<AccessorWriterSample<T>> {
  int db = 7;
  T value;

  @Override
  public int compareTo(AccessorWriterSample<T> o) {
    return 0;
  }
}
