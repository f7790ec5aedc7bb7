package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.maintenance.MaintenanceNotice;
import dev.redisresilience.agent.maintenance.MaintenancePolicy;
import io.lettuce.core.api.push.PushMessage;
import io.lettuce.core.protocol.CommandHandler;
import io.lettuce.core.protocol.RedisCommand;
import io.lettuce.core.protocol.PushHandler;
import io.netty.channel.Channel;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * RESP3 push messages on Lettuce 6.x, seen where CommandHandler hands them to the endpoint's push
 * listeners (pub/sub ones are Lettuce's own path before that): a maintenance notification is
 * reported, marked on the command in flight, and applied to the channel's timeouts (a MOVING
 * starts its hand-off); a malformed one is counted and dropped by the agent. Every push still
 * reaches Lettuce's and the application's listeners unchanged. Injected next to Lettuce.
 */
public final class LettucePushes {
  /** Push types Lettuce itself knows (pub/sub, client-side caching). */
  static final Set<String> CLIENT_TYPES =
      new HashSet<>(
          Arrays.asList(
              "message", "pmessage", "smessage", "subscribe", "psubscribe", "ssubscribe", "unsubscribe",
              "punsubscribe", "sunsubscribe", "pong", "invalidate", "tracking-redir-broken"));

  private LettucePushes() {}

  /** CommandHandler.notifyPushListeners enter, on the channel's event loop. */
  public static void received(Object handler, Object channel, Object message) {
    if (LettuceMaintenance.NATIVE
        || !(message instanceof PushMessage)
        || !(channel instanceof Channel)
        || !(handler instanceof CommandHandler)) {
      return;
    }
    PushMessage push = (PushMessage) message;
    // the type first: getContent() copies the message (a client-side-caching invalidate or a
    // pub/sub message would pay for it)
    if (MaintenanceNotice.Type.of(push.getType()) == null) {
      unknown((CommandHandler) handler, (Channel) channel, push.getType());
      return;
    }
    List<Object> content = push.getContent();
    Channel ch = (Channel) channel;
    LettuceMaintenance m = LettuceMaintenance.of(ch);
    MaintenanceNotice n;
    try {
      n = MaintenanceNotice.parse(content);
    } catch (MaintenanceNotice.MalformedNoticeException e) {
      LettuceMaintenance.telemetry().rejected(m.server, "malformed", e.getMessage());
      return;
    }
    LettuceMaintenance.telemetry().notification(m.server, n, "agent");
    RedisCommand<?, ?, ?> inFlight = ((CommandHandler) handler).getStack().peek();
    LettuceCall call = inFlight == null ? null : LettuceOperations.callOf(inFlight);
    if (call != null) {
      call.op.maintenanceNotified(n.type().name(), n.seq());
    }
    MaintenancePolicy p = MaintenancePolicy.get();
    if (!p.enabled()) {
      return; // reported, not acted on
    }
    m.window().apply(n, p, System.nanoTime());
    if (n.type() == MaintenanceNotice.Type.MOVING) {
      LettuceHandoffs.moving((CommandHandler) handler, m, n);
    }
  }

  /** A push nobody listens to (not Lettuce's own type, no listener registered): counted. */
  private static void unknown(CommandHandler handler, Channel ch, String type) {
    if (type != null && CLIENT_TYPES.contains(type.toLowerCase(Locale.ROOT))) {
      return;
    }
    Object endpoint = handler.getEndpoint();
    if (endpoint instanceof PushHandler && !((PushHandler) endpoint).getPushListeners().isEmpty()) {
      return; // the application's own
    }
    LettuceMaintenance.telemetry()
        .rejected(
            LettuceMaintenance.server(ch.remoteAddress()),
            "unknown_type",
            "push of type " + (type == null ? "?" : clip(type)));
  }

  private static String clip(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }
}
