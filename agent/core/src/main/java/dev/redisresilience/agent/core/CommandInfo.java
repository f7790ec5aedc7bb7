package dev.redisresilience.agent.core;

import java.util.Map;

/**
 * What the agent knows about one Redis command: its retry-safety class, where its keys are and
 * whether (and how) it blocks. Instances are built once (see {@link CommandTable}) and shared.
 */
public final class CommandInfo {
  /** Retry safety when the outcome of an attempt is unknown. */
  public enum Safety {
    /** Reads only: always safe to run again. */
    READ_ONLY,
    /** Writes, but running it twice leaves the same data as running it once. */
    IDEMPOTENT,
    /** Running it twice can change data twice (INCR, LPUSH, ...), or the effect is unknown. */
    NOT_IDEMPOTENT,
    /** Never re-run by the agent (transactions, pub/sub, connection state, admin). */
    NEVER
  }

  /** Where a blocking command carries its block time. */
  public enum Blocking {
    NONE,
    LAST_ARG_SECONDS,
    FIRST_ARG_SECONDS,
    BLOCK_OPTION_MILLIS,
    ARG2_MILLIS,
    ARG3_MILLIS
  }

  /** Arguments that change the safety class; checked only for the commands that have them. */
  enum ArgRule {
    NONE,
    SET,
    ZADD,
    EXPIRE,
    BITFIELD,
    STORE_OPTION,
    SUBCOMMAND
  }

  final int id;
  final String name;
  final Safety safety;
  final int firstKey;
  final int lastKey;
  final int keyStep;
  final Blocking blocking;
  final ArgRule argRule;
  final Map<String, Safety> subcommands;

  CommandInfo(
      int id,
      String name,
      Safety safety,
      int firstKey,
      int lastKey,
      int keyStep,
      Blocking blocking,
      ArgRule argRule,
      Map<String, Safety> subcommands) {
    this.id = id;
    this.name = name;
    this.safety = safety;
    this.firstKey = firstKey;
    this.lastKey = lastKey;
    this.keyStep = keyStep;
    this.blocking = blocking;
    this.argRule = argRule;
    this.subcommands = subcommands;
  }

  /** Dense index, for per-endpoint caches. */
  public int id() {
    return id;
  }

  /** Upper-case command name, the value of {@code db.operation.name}. */
  public String name() {
    return name;
  }

  /** The safety class regardless of arguments. */
  public Safety baseSafety() {
    return safety;
  }

  public boolean isBlockingCommand() {
    return blocking != Blocking.NONE;
  }

  public Blocking blocking() {
    return blocking;
  }

  /** True when {@link #safety(ArgView)} must look at the arguments. */
  public boolean safetyDependsOnArgs() {
    return argRule != ArgRule.NONE;
  }

  /**
   * The safety class of this call, e.g. {@code SET k v} is idempotent, {@code SET k v NX} and
   * {@code SET k v GET} are not (a re-run would report "not set" or the value it just wrote).
   */
  public Safety safety(ArgView args) {
    switch (argRule) {
      case NONE:
        return safety;
      case SET:
        return hasAnyToken(args, 2, "NX", "XX", "GET") ? Safety.NOT_IDEMPOTENT : safety;
      case ZADD:
        return hasAnyToken(args, 1, "INCR") ? Safety.NOT_IDEMPOTENT : safety;
      case EXPIRE:
        return hasAnyToken(args, 2, "NX", "XX") ? Safety.NOT_IDEMPOTENT : safety;
      case BITFIELD:
        return hasAnyToken(args, 1, "INCRBY") ? Safety.NOT_IDEMPOTENT : safety;
      case STORE_OPTION:
        return hasAnyToken(args, 1, "STORE", "STOREDIST") ? safety : Safety.READ_ONLY;
      case SUBCOMMAND:
        if (args.count() == 0) {
          return Safety.READ_ONLY; // e.g. bare "CLIENT" answers with an error
        }
        Safety s = subcommands.get(upper(args.arg(0)));
        return s == null ? Safety.NOT_IDEMPOTENT : s;
      default:
        return safety;
    }
  }

  /**
   * The time this call may block on the server in milliseconds: 0 = not blocking, -1 = blocks
   * without limit (block time 0 given), otherwise the block time the caller asked for.
   */
  public long blockMillis(ArgView args) {
    int n = args.count();
    switch (blocking) {
      case NONE:
        return 0;
      case LAST_ARG_SECONDS:
        return n == 0 ? 0 : secondsToMillis(args.arg(n - 1));
      case FIRST_ARG_SECONDS:
        return n == 0 ? 0 : secondsToMillis(args.arg(0));
      case ARG2_MILLIS:
        return n < 2 ? 0 : millis(args.arg(1));
      case ARG3_MILLIS:
        return n < 3 ? 0 : millis(args.arg(2));
      case BLOCK_OPTION_MILLIS:
        for (int i = 0; i + 1 < n; i++) {
          byte[] a = args.arg(i);
          if (equalsIgnoreCase(a, "STREAMS")) {
            return 0; // options come before STREAMS; no BLOCK means not blocking
          }
          if (equalsIgnoreCase(a, "BLOCK")) {
            return millis(args.arg(i + 1));
          }
        }
        return 0;
      default:
        return 0;
    }
  }

  /** True when argument {@code i} (0-based, after the command name) is a key. */
  public boolean isKey(int i, int argCount) {
    if (firstKey <= 0) {
      return false;
    }
    int pos = i + 1; // Redis key specs count the command name as position 0
    int last = lastKey < 0 ? argCount + 1 + lastKey : lastKey;
    return pos >= firstKey && pos <= last && (pos - firstKey) % keyStep == 0;
  }

  boolean isContainer() {
    return argRule == ArgRule.SUBCOMMAND;
  }

  private static long secondsToMillis(byte[] raw) {
    double s;
    try {
      s = Double.parseDouble(ascii(raw));
    } catch (NumberFormatException e) {
      return 0;
    }
    if (s <= 0) {
      return s == 0 ? -1 : 0;
    }
    return (long) Math.ceil(s * 1000);
  }

  private static long millis(byte[] raw) {
    long v;
    try {
      v = Long.parseLong(ascii(raw));
    } catch (NumberFormatException e) {
      return 0;
    }
    return v == 0 ? -1 : Math.max(0, v);
  }

  private static boolean hasAnyToken(ArgView args, int from, String... tokens) {
    int n = args.count();
    for (int i = from; i < n; i++) {
      byte[] a = args.arg(i);
      for (String t : tokens) {
        if (equalsIgnoreCase(a, t)) {
          return true;
        }
      }
    }
    return false;
  }

  static boolean equalsIgnoreCase(byte[] a, String token) {
    if (a == null || a.length != token.length()) {
      return false;
    }
    for (int i = 0; i < a.length; i++) {
      int c = a[i];
      if (c >= 'a' && c <= 'z') {
        c -= 32;
      }
      if (c != token.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  static String upper(byte[] raw) {
    char[] c = new char[raw.length];
    for (int i = 0; i < raw.length; i++) {
      int b = raw[i] & 0xFF;
      c[i] = (char) (b >= 'a' && b <= 'z' ? b - 32 : b);
    }
    return new String(c);
  }

  private static String ascii(byte[] raw) {
    return new String(raw, java.nio.charset.StandardCharsets.ISO_8859_1);
  }

  @Override
  public String toString() {
    return name;
  }
}
