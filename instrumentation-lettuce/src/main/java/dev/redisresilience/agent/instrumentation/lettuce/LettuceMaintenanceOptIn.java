package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.AgentLog;
import dev.redisresilience.agent.maintenance.MaintenancePolicy;
import io.lettuce.core.ConnectionState;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.ProtocolVersion;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The maintenance opt-in of Lettuce 6.x, which never sends one: after the handshake of a RESP3
 * connection (HELLO 3 answered), {@code CLIENT MAINT_NOTIFICATIONS ON moving-endpoint-type <type>}
 * on the same channel, before the connection is activated (so the application's first command
 * already comes after it, and every reconnect opts in again: the opt-in is connection state).
 * auto: a refusal (a server without notifications, e.g. redis 7.0's "unknown subcommand") is
 * silent; on: logged once; off: nothing is sent. RESP2 connections never get push frames: no
 * opt-in. The connection's handshake never fails because of the opt-in. Injected next to Lettuce.
 */
public final class LettuceMaintenanceOptIn {
  private static volatile boolean refusalLogged;

  private LettuceMaintenanceOptIn() {}

  /** RedisHandshake.initialize exit: the handshake, followed by the opt-in on RESP3. */
  public static CompletionStage<Void> afterHandshake(
      Object channel, Object connectionState, CompletionStage<Void> handshake) {
    if (handshake == null
        || !(channel instanceof Channel)
        || !(connectionState instanceof ConnectionState)
        || !LettuceMaintenance.active()) {
      return handshake;
    }
    Channel ch = (Channel) channel;
    ConnectionState state = (ConnectionState) connectionState;
    return handshake.thenCompose(
        ignored ->
            // 6.x records no version after a HELLO tried without one configured (the default),
            // only RESP2 after its fallback: anything but RESP2 is RESP3
            state.getNegotiatedProtocolVersion() == ProtocolVersion.RESP2
                ? CompletableFuture.completedFuture(null)
                : safeOptIn(ch));
  }

  /** The opt-in never fails the handshake: a fault of the agent's is counted, the connect goes on. */
  private static CompletionStage<Void> safeOptIn(Channel ch) {
    try {
      return optIn(ch);
    } catch (RuntimeException | LinkageError e) {
      dev.redisresilience.agent.telemetry.AgentFaults.record(e);
      return CompletableFuture.completedFuture(null);
    }
  }

  private static CompletionStage<Void> optIn(Channel ch) {
    MaintenancePolicy p = MaintenancePolicy.get();
    if (!p.enabled() || !ch.isActive()) {
      return CompletableFuture.completedFuture(null);
    }
    List<String> args = p.optInArgs(host(ch.remoteAddress()));
    CommandArgs<String, String> a = new CommandArgs<>(StringCodec.UTF8);
    for (int i = 1; i < args.size(); i++) {
      a.add(args.get(i));
    }
    AsyncCommand<String, String, String> cmd =
        new AsyncCommand<>(new Command<>(CommandType.CLIENT, new StatusOutput<>(StringCodec.UTF8), a));
    CompletableFuture<Void> done = new CompletableFuture<>();
    cmd.whenComplete(
        (reply, refused) -> {
          if (refused == null) {
            LettuceMaintenance.of(ch).optedIn = true;
          } else if (p.mode() == MaintenancePolicy.Mode.ON && !refusalLogged) {
            refusalLogged = true;
            AgentLog.warn(
                "maintenance.enabled=on but the server refused CLIENT MAINT_NOTIFICATIONS: "
                    + firstLine(refused.getMessage()) + " (logged once)");
          }
          done.complete(null); // the connection goes on either way
        });
    ch.writeAndFlush(cmd)
        .addListener(
            w -> {
              if (!w.isSuccess()) {
                cmd.completeExceptionally(w.cause()); // the handshake's own failure follows
              }
            });
    return done;
  }

  private static String host(SocketAddress a) {
    return a instanceof InetSocketAddress ? ((InetSocketAddress) a).getHostString() : null;
  }

  private static String firstLine(String m) {
    if (m == null) {
      return "?";
    }
    int nl = m.indexOf('\n');
    String s = nl < 0 ? m : m.substring(0, nl);
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }
}
