package dev.redisresilience.agent.install;

import dev.redisresilience.agent.bootstrap.StateHolder;

/**
 * A subclass of a decorated client class (as ClusterPipeline is of MultiNodePipelineBase), for
 * AccessorWriterTest. {@link #stateSeenBySuperclass} reads the state the way advice woven into
 * the superclass does: through {@link StateHolder}.
 */
public class AccessorWriterSubSample<T> extends AccessorWriterSample<T> {
  public Object stateSeenBySuperclass() {
    return superView();
  }
}
