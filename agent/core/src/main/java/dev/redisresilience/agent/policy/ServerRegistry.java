package dev.redisresilience.agent.policy;

import dev.redisresilience.agent.core.SharedInstances;
import java.util.Objects;

/**
 * The mutable per-server state (retry budget, outage) beside the immutable {@link Policies}: a
 * policy reload swaps the policies and leaves every server's budget and outage as they are, so a
 * reload never splits one server's budget in two. A budget keeps the sizing it was created with.
 *
 * <p>Bounded by {@link SharedInstances}: one {@link ServerState} per (client, address, port) for as
 * long as any connection holds it, plus the {@value #RECENT} most recently looked-up servers held
 * for when their connections come back (about 200 bytes each); servers that neither has are
 * forgotten, so address churn cannot grow the agent's heap.
 */
public final class ServerRegistry {
  /** Idle servers remembered: generous, an application rarely talks to more at once. */
  public static final int RECENT = 1024;

  private static final SharedInstances<Key, ServerState> SERVERS = new SharedInstances<>(RECENT);

  private ServerRegistry() {}

  /** The state of one server for one client library; cache the result, do not call per command. */
  public static ServerState server(String client, String address, int port) {
    return SERVERS.get(
        new Key(client, address, port),
        k -> new ServerState(address, port, Policies.get().newBudget()));
  }

  /** Servers with state someone may still hold (diagnostics and tests). */
  public static int size() {
    return SERVERS.size();
  }

  /** Servers held because they were used recently; at most {@value #RECENT}. */
  public static int recentSize() {
    return SERVERS.recentSize();
  }

  private static final class Key {
    final String client;
    final String address;
    final int port;

    Key(String client, String address, int port) {
      this.client = client;
      this.address = address;
      this.port = port;
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Key)) {
        return false;
      }
      Key k = (Key) o;
      return port == k.port && client.equals(k.client) && Objects.equals(address, k.address);
    }

    @Override
    public int hashCode() {
      return Objects.hash(client, address, port);
    }
  }
}
