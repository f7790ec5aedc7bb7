package dev.redisresilience.agent.core;

import java.nio.charset.StandardCharsets;

/**
 * Builds the sanitized {@code db.query.text}: the command name, the keys (per the command's key
 * spec) and a {@code ?} for every other argument. Values, passwords (AUTH, HELLO, MIGRATE's AUTH,
 * CONFIG SET, ACL SETUSER ...) and anything that is not a key never appear: only arguments the
 * key spec marks as keys are copied, and container commands keep just their subcommand.
 */
public final class QueryText {
  /** Arguments beyond this are summarised as " ..." so MSET with 10k pairs stays cheap. */
  static final int MAX_ARGS = 64;

  private QueryText() {}

  /**
   * An operation's arguments, sanitized only when asked: when its span is kept (an operation
   * whose span is not recorded never builds its text). Asked at most once, while the arguments
   * are still the operation's, on the thread that ends it.
   */
  public interface Source {
    /** The sanitized text of {@code cmd} with these arguments, or null. */
    String queryText(CommandInfo cmd, int maxLength);
  }

  /** One builder per thread, reset per use: the text is then the only allocation. */
  private static final ThreadLocal<Builder> SCRATCH = new ThreadLocal<>();

  /**
   * This thread's builder, started over for {@code cmd}: for building one text at a time (not
   * re-entrant: finish with {@link Builder#build} before asking again).
   */
  public static Builder scratch(CommandInfo cmd, int argCount, int maxLength) {
    Builder b = SCRATCH.get();
    if (b == null) {
      b = new Builder(cmd, argCount, maxLength);
      SCRATCH.set(b);
      return b;
    }
    b.reset(cmd, argCount, maxLength);
    return b;
  }

  public static String sanitize(CommandInfo cmd, ArgView args, int maxLength) {
    int n = args.count();
    Builder b = new Builder(cmd, n, maxLength);
    for (int i = 0; i < n && b.wantsMore(); i++) {
      b.next(args.arg(i));
    }
    return b.build();
  }

  /**
   * Builds the text from arguments handed over one by one (so a client's argument list need not
   * be copied into an array): {@code next} for each argument in order while {@code wantsMore}.
   */
  public static final class Builder {
    private CommandInfo cmd;
    private int count;
    private int limit;
    private int maxLength;
    private final StringBuilder sb;
    private int i;

    public Builder(CommandInfo cmd, int argCount, int maxLength) {
      this.sb = new StringBuilder(Math.min(maxLength, 16 + 8 * Math.min(argCount, MAX_ARGS)));
      reset(cmd, argCount, maxLength);
    }

    private void reset(CommandInfo cmd, int argCount, int maxLength) {
      this.cmd = cmd;
      this.count = argCount;
      this.limit = Math.min(argCount, MAX_ARGS);
      this.maxLength = maxLength;
      this.i = 0;
      if (sb.capacity() > 4 * (maxLength + 64)) {
        sb.setLength(0);
        sb.trimToSize(); // one huge text must not stay with the thread
      }
      sb.setLength(0);
      sb.append(cmd.name);
    }

    public boolean wantsMore() {
      return i < limit && sb.length() <= maxLength;
    }

    public void next(byte[] raw) {
      if (!wantsMore()) {
        return;
      }
      sb.append(' ');
      if (cmd.isContainer() && i == 0) {
        String sub = CommandInfo.upper(raw);
        sb.append(cmd.subcommands.containsKey(sub) ? sub : "?");
      } else if (cmd.isKey(i, count)) {
        appendKey(sb, raw);
      } else {
        sb.append('?');
      }
      i++;
    }

    public String build() {
      if (count > limit && sb.length() <= maxLength) {
        sb.append(" ...");
      }
      if (sb.length() > maxLength) {
        sb.setLength(Math.max(0, maxLength - 3));
        sb.append("...");
      }
      return sb.toString();
    }
  }

  /**
   * For clients that expose only the first key and the argument count (Lettuce): the first key
   * where the key spec puts a key first, every other argument as {@code ?}.
   */
  public static String sanitizeFirstKey(CommandInfo cmd, byte[] firstKey, int argCount, int maxLength) {
    StringBuilder sb = new StringBuilder(Math.min(maxLength, 16 + 2 * Math.min(argCount, MAX_ARGS)));
    sb.append(cmd.name);
    int limit = Math.min(argCount, MAX_ARGS);
    for (int i = 0; i < limit && sb.length() <= maxLength; i++) {
      sb.append(' ');
      if (i == 0 && firstKey != null && cmd.isKey(0, argCount)) {
        appendKey(sb, firstKey);
      } else {
        sb.append('?');
      }
    }
    if (argCount > limit && sb.length() <= maxLength) {
      sb.append(" ...");
    }
    if (sb.length() > maxLength) {
      sb.setLength(Math.max(0, maxLength - 3));
      sb.append("...");
    }
    return sb.toString();
  }

  private static void appendKey(StringBuilder sb, byte[] key) {
    boolean ascii = true;
    for (byte b : key) {
      if ((b & 0xFF) < 0x20 || b == 0x7F) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      boolean plain = true;
      for (byte b : key) {
        if (b < 0) {
          plain = false;
          break;
        }
      }
      if (plain) {
        for (byte b : key) {
          sb.append((char) b); // 7-bit: no decoding, no intermediate String
        }
      } else {
        sb.append(new String(key, StandardCharsets.UTF_8));
      }
    } else {
      // binary key: do not put control bytes into telemetry
      sb.append("<binary ").append(key.length).append(" bytes>");
    }
  }
}
