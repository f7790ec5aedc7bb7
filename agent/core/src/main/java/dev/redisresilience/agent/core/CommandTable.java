package dev.redisresilience.agent.core;

import dev.redisresilience.agent.core.CommandInfo.ArgRule;
import dev.redisresilience.agent.core.CommandInfo.Blocking;
import dev.redisresilience.agent.core.CommandInfo.Safety;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Maps a command name (raw bytes, any case) to its {@link CommandInfo} without allocating: an
 * open-addressing table built once from {@code commands.tsv}. Commands the table does not know
 * (module commands, newer Redis) get an entry on first sight, classified {@link
 * Safety#NOT_IDEMPOTENT} so they are never re-run after an unknown outcome.
 */
public final class CommandTable {
  /** Unknown command names remembered; beyond this, unknown commands share no cache slot. */
  static final int MAX_UNKNOWN = 512;

  private static final CommandTable INSTANCE = load();

  private final byte[][] keys;
  private final CommandInfo[] values;
  private final int mask;
  private final int knownCount;
  private final Map<String, CommandInfo> byName;
  private final ConcurrentHashMap<String, CommandInfo> unknown = new ConcurrentHashMap<>();
  /**
   * The remembered unknown commands by raw name, any case, as the known ones: a module command
   * sent over and over is found without upper-casing its name into a String each time. Slots are
   * written once, under the lock, with an immutable entry; a reader that misses a slot being
   * written just takes the slow path.
   */
  private final UnknownEntry[] unknownSlots = new UnknownEntry[Integer.highestOneBit(MAX_UNKNOWN * 4)];

  private final AtomicInteger nextId;

  private CommandTable(List<CommandInfo> infos) {
    int size = Integer.highestOneBit(Math.max(16, infos.size() * 4) - 1) << 1;
    keys = new byte[size][];
    values = new CommandInfo[size];
    mask = size - 1;
    Map<String, CommandInfo> names = new HashMap<>();
    for (CommandInfo info : infos) {
      byte[] k = info.name.getBytes(StandardCharsets.US_ASCII);
      int slot = hash(k, 0, k.length) & mask;
      while (keys[slot] != null) {
        slot = (slot + 1) & mask;
      }
      keys[slot] = k;
      values[slot] = info;
      names.put(info.name, info);
    }
    byName = Collections.unmodifiableMap(names);
    knownCount = infos.size();
    nextId = new AtomicInteger(infos.size());
  }

  public static CommandTable get() {
    return INSTANCE;
  }

  /** Upper bound (exclusive) of {@link CommandInfo#id()} values handed out. */
  public int maxId() {
    return knownCount + MAX_UNKNOWN;
  }

  public int knownCount() {
    return knownCount;
  }

  /** Looks a command up by its raw name bytes, e.g. {@code "get".getBytes()}. */
  public CommandInfo lookup(byte[] name) {
    if (name == null || name.length == 0) {
      return lookupUnknown("UNKNOWN");
    }
    int slot = hash(name, 0, name.length) & mask;
    byte[] k;
    while ((k = keys[slot]) != null) {
      if (sameIgnoreCase(k, name)) {
        return values[slot];
      }
      slot = (slot + 1) & mask;
    }
    UnknownEntry[] us = unknownSlots;
    int umask = us.length - 1;
    int u = hash(name, 0, name.length) & umask;
    UnknownEntry e;
    while ((e = us[u]) != null) {
      if (sameIgnoreCase(e.upper, name)) {
        return e.info;
      }
      u = (u + 1) & umask;
    }
    CommandInfo info = lookupUnknown(CommandInfo.upper(name));
    if (info.id() >= 0) {
      rememberRaw(info);
    }
    return info;
  }

  private void rememberRaw(CommandInfo info) {
    byte[] k = info.name.getBytes(StandardCharsets.ISO_8859_1);
    synchronized (unknownSlots) {
      UnknownEntry[] us = unknownSlots;
      int umask = us.length - 1;
      int u = hash(k, 0, k.length) & umask;
      UnknownEntry e;
      while ((e = us[u]) != null) {
        if (e.info == info || java.util.Arrays.equals(e.upper, k)) {
          return;
        }
        u = (u + 1) & umask;
      }
      us[u] = new UnknownEntry(k, info); // at most MAX_UNKNOWN of 4 * MAX_UNKNOWN slots
    }
  }

  private static final class UnknownEntry {
    final byte[] upper;
    final CommandInfo info;

    UnknownEntry(byte[] upper, CommandInfo info) {
      this.upper = upper;
      this.info = info;
    }
  }

  public CommandInfo lookup(String name) {
    String upper = name.toUpperCase(java.util.Locale.ROOT);
    CommandInfo info = byName.get(upper);
    return info != null ? info : lookupUnknown(upper);
  }

  /** The known commands, for tests and documentation. */
  public Map<String, CommandInfo> known() {
    return byName;
  }

  private CommandInfo lookupUnknown(String upper) {
    CommandInfo info = unknown.get(upper);
    if (info != null) {
      return info;
    }
    int id = unknown.size() < MAX_UNKNOWN ? nextId.getAndIncrement() : -1;
    if (id >= maxId()) {
      id = -1;
    }
    info =
        new CommandInfo(
            id, upper, Safety.NOT_IDEMPOTENT, 0, 0, 0, Blocking.NONE, ArgRule.NONE, null);
    if (id < 0) {
      return info; // table full: classify, but do not remember
    }
    CommandInfo prev = unknown.putIfAbsent(upper, info);
    return prev != null ? prev : info;
  }

  private static int hash(byte[] b, int from, int to) {
    int h = 0x811C9DC5;
    for (int i = from; i < to; i++) {
      int c = b[i];
      if (c >= 'a' && c <= 'z') {
        c -= 32;
      }
      h = (h ^ c) * 0x01000193;
    }
    return h ^ (h >>> 16);
  }

  private static boolean sameIgnoreCase(byte[] upper, byte[] any) {
    if (upper.length != any.length) {
      return false;
    }
    for (int i = 0; i < upper.length; i++) {
      int c = any[i];
      if (c >= 'a' && c <= 'z') {
        c -= 32;
      }
      if (c != upper[i]) {
        return false;
      }
    }
    return true;
  }

  private static CommandTable load() {
    List<CommandInfo> infos = new ArrayList<>();
    InputStream in = CommandTable.class.getResourceAsStream("commands.tsv");
    if (in == null) {
      throw new IllegalStateException("commands.tsv missing from the agent jar");
    }
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        infos.add(parse(infos.size(), line.split("\t")));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new CommandTable(infos);
  }

  private static CommandInfo parse(int id, String[] f) {
    String name = f[0];
    Map<String, Safety> subs = null;
    Safety safety;
    if (f[1].equals("C")) {
      safety = Safety.NOT_IDEMPOTENT;
      subs = new HashMap<>();
      for (String part : f[6].split(",")) {
        int colon = part.lastIndexOf(':');
        subs.put(part.substring(0, colon), safety(part.substring(colon + 1)));
      }
      subs = Collections.unmodifiableMap(subs);
    } else {
      safety = safety(f[1]);
    }
    Blocking blocking;
    switch (f[5]) {
      case "last-seconds":
        blocking = Blocking.LAST_ARG_SECONDS;
        break;
      case "first-seconds":
        blocking = Blocking.FIRST_ARG_SECONDS;
        break;
      case "option-BLOCK-ms":
        blocking = Blocking.BLOCK_OPTION_MILLIS;
        break;
      case "arg2-ms":
        blocking = Blocking.ARG2_MILLIS;
        break;
      case "arg3-ms":
        blocking = Blocking.ARG3_MILLIS;
        break;
      default:
        blocking = Blocking.NONE;
    }
    return new CommandInfo(
        id,
        name,
        safety,
        Integer.parseInt(f[2]),
        Integer.parseInt(f[3]),
        Math.max(1, Integer.parseInt(f[4])),
        blocking,
        subs != null ? ArgRule.SUBCOMMAND : argRule(name),
        subs);
  }

  private static ArgRule argRule(String name) {
    switch (name) {
      case "SET":
        return ArgRule.SET;
      case "ZADD":
        return ArgRule.ZADD;
      case "EXPIRE":
      case "PEXPIRE":
      case "HEXPIRE":
      case "HPEXPIRE":
        return ArgRule.EXPIRE_RELATIVE;
      case "EXPIREAT":
      case "HEXPIREAT":
        return ArgRule.EXPIRE_AT_SECONDS;
      case "PEXPIREAT":
      case "HPEXPIREAT":
        return ArgRule.EXPIRE_AT_MILLIS;
      case "GETEX":
      case "HGETEX":
        return ArgRule.GETEX;
      case "HSETEX":
        return ArgRule.HSETEX;
      case "BITFIELD":
        return ArgRule.BITFIELD;
      case "SORT":
      case "GEORADIUS":
      case "GEORADIUSBYMEMBER":
        return ArgRule.STORE_OPTION;
      case "SUNIONSTORE":
      case "SINTERSTORE":
      case "SDIFFSTORE":
      case "ZUNIONSTORE":
      case "ZINTERSTORE":
      case "ZDIFFSTORE":
      case "ZRANGESTORE":
      case "GEOSEARCHSTORE":
        return ArgRule.DEST_ARG0;
      case "BITOP":
        return ArgRule.DEST_ARG1;
      default:
        return ArgRule.NONE;
    }
  }

  private static Safety safety(String code) {
    switch (code) {
      case "R":
        return Safety.READ_ONLY;
      case "S":
        return Safety.IDEMPOTENT_SAME_REPLY;
      case "T":
        return Safety.IDEMPOTENT_STATE;
      case "N":
        return Safety.NOT_IDEMPOTENT;
      case "X":
        return Safety.NEVER;
      default:
        throw new IllegalArgumentException("unknown safety class " + code);
    }
  }
}
