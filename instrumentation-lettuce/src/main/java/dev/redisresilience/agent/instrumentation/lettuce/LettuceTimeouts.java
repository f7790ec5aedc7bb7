package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.policy.Policies;
import dev.redisresilience.agent.policy.TimeoutPolicy;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import java.time.Duration;

/**
 * Applies the timeout policy to Lettuce through Lettuce's own machinery, however the client was
 * built (RedisURI, ClientOptions, TimeoutOptions, Spring Boot): the client's options get the
 * policy's connect timeout and a {@link LettuceTimeoutSource} that gives every command its
 * timeout (blocking commands their block time plus the margin, per-command overrides, the
 * command timeout combined with the app's per timeout.mode). Lettuce's expiry writer and sync
 * wait then enforce it; on 7.x its maintenance-aware writer still relaxes it during
 * maintenance, because nothing of Lettuce is wrapped. Injected next to Lettuce.
 */
public final class LettuceTimeouts {
  /** RedisURI.DEFAULT_TIMEOUT: the command timeout of a client built without one. */
  static final int LETTUCE_DEFAULT_COMMAND_MILLIS = 60_000;
  /** SocketOptions.DEFAULT_CONNECT_TIMEOUT. */
  static final int LETTUCE_DEFAULT_CONNECT_MILLIS = 10_000;
  /** Lettuce 7.0+: relaxed timeouts during maintenance, to be kept as the app set them. */
  private static final boolean HAS_RELAXED_TIMEOUT = hasMethod(TimeoutOptions.class, "getRelaxedTimeout");

  private LettuceTimeouts() {}

  /** True when these options were made by the agent already (the app re-set what it read). */
  static boolean appliedTo(ClientOptions options) {
    TimeoutOptions t = options.getTimeoutOptions();
    return t != null && t.getSource() instanceof LettuceTimeoutSource;
  }

  /** The app's timeouts, with the policy's, into {@code b} (a copy of {@code app}). */
  static void apply(ClientOptions app, ClientOptions.Builder b) {
    TimeoutOptions appTimeouts = app.getTimeoutOptions();
    TimeoutOptions.Builder t =
        TimeoutOptions.builder().timeoutSource(new LettuceTimeoutSource(appTimeouts));
    if (HAS_RELAXED_TIMEOUT && appTimeouts != null) {
      t.relaxedTimeoutsDuringMaintenance(appTimeouts.getRelaxedTimeout()); // Lettuce 7.0+
    }
    b.timeoutOptions(t.build());
    SocketOptions socket = app.getSocketOptions();
    if (socket != null) {
      int appConnect = (int) Math.min(Integer.MAX_VALUE, socket.getConnectTimeout().toMillis());
      int connect =
          Policies.get().timeouts().connectMillis(appConnect, LETTUCE_DEFAULT_CONNECT_MILLIS);
      if (connect != appConnect && connect > 0) {
        b.socketOptions(socket.mutate().connectTimeout(Duration.ofMillis(connect)).build());
      }
    }
  }

  /**
   * The timeout of one command in milliseconds, 0 for none: its own (blocking, per-command), or
   * the command timeout combined with the app's. {@code appMillis}: the app's, 0 = none.
   */
  static long commandTimeoutMillis(LettuceCall call, long appMillis) {
    TimeoutPolicy p = Policies.get().timeouts();
    if (call != null) {
      long own = p.attemptReadMillis(call.command, call.args);
      if (own >= 0) {
        return own; // 0: blocks until the server answers by request; never cut
      }
    }
    int app = (int) Math.min(Integer.MAX_VALUE, Math.max(0, appMillis));
    return p.commandMillis(app, LETTUCE_DEFAULT_COMMAND_MILLIS);
  }

  private static boolean hasMethod(Class<?> type, String name) {
    try {
      type.getMethod(name);
      return true;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }
}
