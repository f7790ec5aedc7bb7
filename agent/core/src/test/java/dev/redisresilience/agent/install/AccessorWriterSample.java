package dev.redisresilience.agent.install;

/** Stands in for a client class in AccessorWriterTest: generic, with a package-private int field. */
public class AccessorWriterSample<T> implements Comparable<AccessorWriterSample<T>> {
  int db = 7;
  T value;

  /** The state as advice woven into this class reads it: through StateHolder. */
  Object superView() {
    return ((dev.redisresilience.agent.bootstrap.StateHolder) (Object) this).__rraState();
  }

  @Override
  public int compareTo(AccessorWriterSample<T> o) {
    return 0;
  }
}
