package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.policy.Policies;
import io.lettuce.core.ClientOptions;

/**
 * The options every Lettuce connection is built from, with the agent's policy in them: its
 * timeouts ({@link LettuceTimeouts}) and its offline queue. Built once per options object the app
 * set, cached in the client's state field. Injected next to Lettuce.
 */
public final class LettuceClientOptions {
  private LettuceClientOptions() {}

  /** AbstractRedisClient.getOptions exit. */
  public static ClientOptions options(Object client, ClientOptions app) {
    if (app == null || !(client instanceof StateHolder)) {
      return app;
    }
    StateHolder h = (StateHolder) client;
    Object s = h.__rraState();
    if (s instanceof ClientOptions[] && ((ClientOptions[]) s)[0] == app) {
      return ((ClientOptions[]) s)[1];
    }
    ClientOptions ours = withPolicy(app);
    h.__rraSetState(new ClientOptions[] {app, ours});
    return ours;
  }

  static ClientOptions withPolicy(ClientOptions app) {
    if (LettuceTimeouts.appliedTo(app)) {
      return app; // built from options the agent made already
    }
    ClientOptions.Builder b = app.mutate();
    LettuceTimeouts.apply(app, b);
    if (Policies.get().offlineQueueReject()) {
      // node-redis' disableOfflineQueue: fail at once rather than wait for the reconnect
      b.disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS);
    }
    return b.build();
  }
}
