package dev.redisresilience.agent.instrumentation.lettuce;

import io.lettuce.core.protocol.CommandArgs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Lettuce {@link CommandArgs} as the agent's argument view (argument 0 = first after the name),
 * for {@link LettuceCall}, which is its own {@link dev.redisresilience.agent.core.ArgView}. The
 * arguments are encoded only when a decision needs them (safety class, block time): Lettuce keeps
 * them as typed values and encodes each as a RESP bulk string.
 */
final class LettuceArgs {
  private static final byte[][] NONE = new byte[0][];

  private LettuceArgs() {}

  /** The encoded arguments of {@code args} (none for null). */
  static byte[][] decode(CommandArgs<?, ?> args) {
    if (args == null || args.count() == 0) {
      return NONE;
    }
    ByteBuf buf = Unpooled.buffer(64);
    try {
      args.encode(buf);
      byte[][] out = new byte[args.count()][];
      int n = 0;
      while (buf.isReadable() && n < out.length) {
        if (buf.readByte() != '$') {
          break; // not a bulk string: keep what was read
        }
        int len = 0;
        byte b;
        while ((b = buf.readByte()) != '\r') {
          len = len * 10 + (b - '0');
        }
        buf.skipBytes(1); // \n
        byte[] a = new byte[len];
        buf.readBytes(a);
        buf.skipBytes(2); // \r\n
        out[n++] = a;
      }
      if (n < out.length) {
        byte[][] shorter = new byte[n][];
        System.arraycopy(out, 0, shorter, 0, n);
        return shorter;
      }
      return out;
    } finally {
      buf.release();
    }
  }
}
