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

  public static String sanitize(CommandInfo cmd, ArgView args, int maxLength) {
    int n = args.count();
    StringBuilder sb = new StringBuilder(Math.min(maxLength, 16 + 8 * Math.min(n, MAX_ARGS)));
    sb.append(cmd.name);
    boolean container = cmd.isContainer();
    int limit = Math.min(n, MAX_ARGS);
    for (int i = 0; i < limit; i++) {
      sb.append(' ');
      if (container && i == 0) {
        String sub = CommandInfo.upper(args.arg(0));
        sb.append(cmd.subcommands.containsKey(sub) ? sub : "?");
      } else if (cmd.isKey(i, n)) {
        appendKey(sb, args.arg(i));
      } else {
        sb.append('?');
      }
      if (sb.length() > maxLength) {
        break;
      }
    }
    if (n > limit && sb.length() <= maxLength) {
      sb.append(" ...");
    }
    if (sb.length() > maxLength) {
      sb.setLength(Math.max(0, maxLength - 3));
      sb.append("...");
    }
    return sb.toString();
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
      sb.append(new String(key, StandardCharsets.UTF_8));
    } else {
      // binary key: do not put control bytes into telemetry
      sb.append("<binary ").append(key.length).append(" bytes>");
    }
  }
}
