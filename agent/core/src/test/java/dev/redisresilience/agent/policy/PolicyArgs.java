package dev.redisresilience.agent.policy;

import dev.redisresilience.agent.core.ArgView;
import java.nio.charset.StandardCharsets;

/** An {@link ArgView} over strings, for policy tests. */
final class PolicyArgs implements ArgView {
  private final String[] args;

  PolicyArgs(String... args) {
    this.args = args;
  }

  @Override
  public int count() {
    return args.length;
  }

  @Override
  public byte[] arg(int i) {
    return args[i].getBytes(StandardCharsets.UTF_8);
  }
}
