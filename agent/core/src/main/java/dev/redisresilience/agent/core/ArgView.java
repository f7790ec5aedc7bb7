package dev.redisresilience.agent.core;

/**
 * A client's command arguments seen through JDK types only, so that classification and
 * sanitizing stay client-neutral. Argument 0 is the first argument after the command name.
 * Implemented by client-typed helpers that are injected next to the client.
 */
public interface ArgView {
  int count();

  /** The raw bytes of argument {@code i}; must not be modified. */
  byte[] arg(int i);
}
