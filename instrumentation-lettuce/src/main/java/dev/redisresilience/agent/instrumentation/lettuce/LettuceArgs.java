package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.core.ArgView;
import io.lettuce.core.protocol.CommandArgs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Lettuce {@link CommandArgs} as an {@link ArgView} (argument 0 = first after the name). The
 * arguments are encoded only when a decision needs them (safety class, block time): Lettuce
 * keeps them as typed values and encodes each as a RESP bulk string.
 */
final class LettuceArgs implements ArgView {
  private static final byte[][] NONE = new byte[0][];
  private final CommandArgs<?, ?> args;
  private byte[][] raw;

  LettuceArgs(CommandArgs<?, ?> args) {
    this.args = args;
  }

  private byte[][] raw() {
    byte[][] r = raw;
    if (r == null) {
      r = args == null || args.count() == 0 ? NONE : decode(args);
      raw = r;
    }
    return r;
  }

  private static byte[][] decode(CommandArgs<?, ?> args) {
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

  @Override
  public int count() {
    return raw().length;
  }

  @Override
  public byte[] arg(int i) {
    return raw()[i];
  }
}
