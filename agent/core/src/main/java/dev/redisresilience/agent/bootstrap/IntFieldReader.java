package dev.redisresilience.agent.bootstrap;

/**
 * Implemented (by the agent, through bytecode) by client classes whose package-private int field
 * the agent needs to read, e.g. Lettuce's ConnectionState.db.
 */
public interface IntFieldReader {
  int __rraReadInt();
}
