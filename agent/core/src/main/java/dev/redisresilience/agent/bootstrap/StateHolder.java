package dev.redisresilience.agent.bootstrap;

/**
 * Implemented (by the agent, through bytecode) by instrumented client classes that carry agent
 * state: a connection's endpoint and health, a pipeline's batch. Advice reaches the state through
 * this interface, which works for subclasses too and costs one interface call.
 */
public interface StateHolder {
  Object __rraState();

  void __rraSetState(Object state);
}
