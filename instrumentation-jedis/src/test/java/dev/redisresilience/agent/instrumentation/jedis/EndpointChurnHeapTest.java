package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * 10,000 distinct endpoint names through the connection path keep the agent's retained heap
 * bounded. Unbounded, every name kept a server state and an endpoint with a slot per command
 * (about 3.5 KB each): some 35 MB for 10,000 names, growing with every new one.
 */
class EndpointChurnHeapTest {
  /** Generous: the bounded registries retain about 1.3 MB (256 endpoints, 1024 servers). */
  static final long BOUND_BYTES = 8L << 20;

  @Test
  void tenThousandEndpointNamesRetainABoundedHeap() {
    EndpointChurn.connect("warm-up", 1); // classes loaded and caches built before measuring
    long before = EndpointChurn.retainedHeap();
    EndpointChurn.churn();
    long retained = EndpointChurn.retainedHeap() - before;
    System.out.printf(
        "endpoint churn: %,d names retained %,d bytes (bound %,d)%n",
        EndpointChurn.NAMES, retained, BOUND_BYTES);
    assertThat(retained).isLessThan(BOUND_BYTES);
  }
}
