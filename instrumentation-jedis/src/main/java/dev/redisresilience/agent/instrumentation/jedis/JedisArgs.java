package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.core.ArgView;
import dev.redisresilience.agent.core.CommandInfo;
import dev.redisresilience.agent.core.QueryText;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.args.Rawable;

/**
 * Jedis {@link CommandArguments} as an {@link ArgView} (argument 0 = first after the name), and
 * the source of their sanitized query text, built only for a span that is kept. A thread's
 * reusable call points its one instance at each command's arguments in turn ({@link #reset}).
 */
final class JedisArgs implements ArgView, QueryText.Source {
  private static final byte[][] NONE = new byte[0][];
  /** CommandArguments.get(int) (Jedis 7+): the arguments read by index, without an iterator. */
  private static final boolean INDEXED = indexed();
  private CommandArguments args;
  private byte[][] raw;

  JedisArgs(CommandArguments args) {
    this.args = args;
  }

  /** Now the view of {@code args} (null: of nothing, so the last command's stay unreachable). */
  void reset(CommandArguments args) {
    this.args = args;
    this.raw = null;
  }

  @Override
  public String queryText(CommandInfo cmd, int maxLength) {
    CommandArguments a = args;
    if (a == null) {
      return null;
    }
    byte[][] r = raw;
    int n = a.size() - 1;
    QueryText.Builder b = QueryText.scratch(cmd, n, maxLength);
    if (r != null) {
      for (int i = 0; i < r.length && b.wantsMore(); i++) {
        b.next(r[i]);
      }
      return b.build();
    }
    if (INDEXED) {
      for (int i = 1; i <= n && b.wantsMore(); i++) {
        b.next(a.get(i).getRaw()); // Jedis 7+
      }
      return b.build();
    }
    boolean first = true;
    for (Rawable x : a) {
      if (first) {
        first = false; // the command name
      } else if (b.wantsMore()) {
        b.next(x.getRaw());
      } else {
        break;
      }
    }
    return b.build();
  }

  private byte[][] raw() {
    byte[][] r = raw;
    if (r == null) {
      int n = args == null ? 0 : args.size() - 1;
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

  private static boolean indexed() {
    try {
      return CommandArguments.class.getMethod("get", int.class).getReturnType() == Rawable.class;
    } catch (NoSuchMethodException | RuntimeException | LinkageError e) {
      return false; // Jedis 4-6: iterate
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
