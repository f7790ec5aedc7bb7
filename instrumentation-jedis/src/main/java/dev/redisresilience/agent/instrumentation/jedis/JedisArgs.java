package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.core.ArgView;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.args.Rawable;

/** Jedis {@link CommandArguments} as an {@link ArgView} (argument 0 = first after the name). */
final class JedisArgs implements ArgView {
  private static final byte[][] NONE = new byte[0][];
  private final CommandArguments args;
  private byte[][] raw;

  JedisArgs(CommandArguments args) {
    this.args = args;
  }

  private byte[][] raw() {
    byte[][] r = raw;
    if (r == null) {
      int n = args.size() - 1;
      if (n <= 0) {
        r = NONE;
      } else {
        r = new byte[n][];
        int i = -1;
        for (Rawable a : args) {
          if (i >= 0 && i < n) {
            r[i] = a.getRaw();
          }
          i++;
        }
      }
      raw = r;
    }
    return r;
  }

  @Override
  public int count() {
    return raw().length;
  }

  @Override
  public byte[] arg(int i) {
    return raw()[i];
  }
}
