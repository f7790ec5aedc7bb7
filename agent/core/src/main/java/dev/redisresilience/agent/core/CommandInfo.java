package dev.redisresilience.agent.core;

import java.util.Map;

/**
 * What the agent knows about one Redis command: its retry-safety class, where its keys are and
 * whether (and how) it blocks. Instances are built once (see {@link CommandTable}) and shared.
 */
public final class CommandInfo {
  /**
   * Retry safety when the outcome of an attempt is unknown. The question is not only "does a
   * second run change data again?" but also "does the caller get the reply one run would give?":
   * a retry's reply is the only one the caller sees.
   */
  public enum Safety {
    /** Reads only: always safe to run again. */
    READ_ONLY,
    /**
     * Writes; a second run leaves the same data and gives the same reply as one run would
     * ({@code SET k v}, {@code HMSET}, {@code EXPIRE k 10}, {@code SUNIONSTORE d a b}).
     */
    IDEMPOTENT_SAME_REPLY,
    /**
     * Writes; a second run leaves the same data, but its reply counts only what the second run
     * changed ({@code SADD} 1 then 0, {@code DEL} 1 then 0, {@code HSET}, {@code SETBIT}): code
     * that acts on the reply (deduplication on SADD's 1) is misled.
     */
    IDEMPOTENT_STATE,
    /**
     * Running it twice can change data twice (INCR, LPUSH, ...), its reply is a decision or data
     * that the first run used up (SET NX, GETDEL, SET GET), or the effect is unknown.
     */
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
    /** EXPIRE, PEXPIRE, HEXPIRE, HPEXPIRE: relative time at argument 1. */
    EXPIRE_RELATIVE,
    /** EXPIREAT, HEXPIREAT: unix time in seconds at argument 1. */
    EXPIRE_AT_SECONDS,
    /** PEXPIREAT, HPEXPIREAT: unix time in milliseconds at argument 1. */
    EXPIRE_AT_MILLIS,
    /** GETEX, HGETEX: EXAT/PXAT in the past delete what they return. */
    GETEX,
    HSETEX,
    BITFIELD,
    /** SORT, GEORADIUS[BYMEMBER]: read-only unless STORE/STOREDIST names a destination. */
    STORE_OPTION,
    /** The destination is argument 0 (SUNIONSTORE, ZUNIONSTORE, ZRANGESTORE ...). */
    DEST_ARG0,
    /** The destination is argument 1 (BITOP op dest key ...). */
    DEST_ARG1,
    SUBCOMMAND
  }

  /**
   * An absolute expiry time this close to the agent's clock (or earlier) may already be past on
   * the server, whose clock can differ: such a command may delete the key.
   */
  static final long CLOCK_SKEW_MILLIS = 60_000;

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
   * The safety class of this call, decided by the arguments where they change it:
   *
   * <ul>
   *   <li>conditional options (SET NX/XX/IFEQ..., EXPIRE NX/XX/GT/LT, HSETEX FNX/FXX) and SET GET:
   *       not idempotent, the reply of a re-run answers the condition differently ("not set");
   *   <li>ZADD INCR, BITFIELD INCRBY: not idempotent;
   *   <li>an expiry time that deletes the key (EXPIRE k 0, EXPIREAT k past): state only (1, then
   *       0); GETEX/HGETEX with EXAT/PXAT in the past: not idempotent (the value is gone);
   *   <li>a store command whose destination is also an input (ZUNIONSTORE d 2 d x adds x's scores
   *       again on a re-run): not idempotent.
   * </ul>
   */
  public Safety safety(ArgView args) {
    switch (argRule) {
      case NONE:
        return safety;
      case SET:
        return hasAnyToken(args, 2, "NX", "XX", "GET", "IFEQ", "IFNE", "IFDEQ", "IFDNE")
            ? Safety.NOT_IDEMPOTENT
            : safety;
      case ZADD:
        return hasAnyToken(args, 1, "INCR") ? Safety.NOT_IDEMPOTENT : safety;
      case EXPIRE_RELATIVE:
      case EXPIRE_AT_SECONDS:
      case EXPIRE_AT_MILLIS:
        if (hasAnyToken(args, 2, "NX", "XX", "GT", "LT")) {
          return Safety.NOT_IDEMPOTENT;
        }
        return args.count() > 1 && expiresNow(args.arg(1), argRule)
            ? Safety.IDEMPOTENT_STATE
            : safety;
      case GETEX:
        for (int i = 1; i + 1 < args.count(); i++) {
          byte[] a = args.arg(i);
          if ((equalsIgnoreCase(a, "EXAT") && expiresNow(args.arg(i + 1), ArgRule.EXPIRE_AT_SECONDS))
              || (equalsIgnoreCase(a, "PXAT")
                  && expiresNow(args.arg(i + 1), ArgRule.EXPIRE_AT_MILLIS))) {
            return Safety.NOT_IDEMPOTENT;
          }
        }
        return safety;
      case HSETEX:
        return hasAnyToken(args, 1, "FNX", "FXX") ? Safety.NOT_IDEMPOTENT : safety;
      case BITFIELD:
        return hasAnyToken(args, 1, "INCRBY") ? Safety.NOT_IDEMPOTENT : safety;
      case STORE_OPTION:
        for (int i = 1; i < args.count(); i++) {
          byte[] a = args.arg(i);
          if (equalsIgnoreCase(a, "STORE") || equalsIgnoreCase(a, "STOREDIST")) {
            return destinationIsInput(args, i + 1) ? Safety.NOT_IDEMPOTENT : safety;
          }
        }
        return Safety.READ_ONLY;
      case DEST_ARG0:
        return destinationIsInput(args, 0) ? Safety.NOT_IDEMPOTENT : safety;
      case DEST_ARG1:
        return destinationIsInput(args, 1) ? Safety.NOT_IDEMPOTENT : safety;
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
   * True when this expiry time deletes the key at once: a relative time of 0 or less, or an
   * absolute time not clearly in the future. Unparsable times are left to the server (an error
   * reply, the same on every run).
   */
  private static boolean expiresNow(byte[] raw, ArgRule kind) {
    long v;
    try {
      v = Long.parseLong(ascii(raw));
    } catch (NumberFormatException e) {
      return false;
    }
    switch (kind) {
      case EXPIRE_RELATIVE:
        return v <= 0;
      case EXPIRE_AT_SECONDS:
        return v <= (System.currentTimeMillis() + CLOCK_SKEW_MILLIS) / 1000;
      default:
        return v <= System.currentTimeMillis() + CLOCK_SKEW_MILLIS;
    }
  }

  /**
   * True when the destination (argument {@code dest}) is also one of the other arguments, so a
   * re-run reads what the first run wrote. Compares with every argument, not only keys: a false
   * match only makes the call not retried.
   */
  private static boolean destinationIsInput(ArgView args, int dest) {
    int n = args.count();
    if (dest >= n) {
      return false;
    }
    byte[] d = args.arg(dest);
    for (int i = 0; i < n; i++) {
      if (i != dest && java.util.Arrays.equals(d, args.arg(i))) {
        return true;
      }
    }
    return false;
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
