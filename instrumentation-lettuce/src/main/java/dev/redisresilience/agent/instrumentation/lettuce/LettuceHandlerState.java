package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.policy.ServerState;
import dev.redisresilience.agent.telemetry.Endpoint;
import java.net.SocketAddress;

/**
 * The endpoint and server last used by one Lettuce CommandHandler (one channel), cached so that
 * writing a command costs a comparison, not a lookup. Bootstrap side: public for the injected
 * helper.
 */
public final class LettuceHandlerState {
  public SocketAddress address;
  public long database = -1;
  public Endpoint endpoint;
  public ServerState server;
}
