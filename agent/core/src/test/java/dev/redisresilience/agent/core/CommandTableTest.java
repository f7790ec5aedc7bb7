package dev.redisresilience.agent.core;

import static dev.redisresilience.agent.core.CommandInfo.Safety.IDEMPOTENT_SAME_REPLY;
import static dev.redisresilience.agent.core.CommandInfo.Safety.IDEMPOTENT_STATE;
import static dev.redisresilience.agent.core.CommandInfo.Safety.NEVER;
import static dev.redisresilience.agent.core.CommandInfo.Safety.NOT_IDEMPOTENT;
import static dev.redisresilience.agent.core.CommandInfo.Safety.READ_ONLY;
import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.core.CommandInfo.Safety;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CommandTableTest {
  private final CommandTable table = CommandTable.get();

  private CommandInfo cmd(String name) {
    return table.lookup(name.getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void lookupIsCaseInsensitiveAndReturnsTheSharedInstance() {
    assertThat(cmd("get")).isSameAs(cmd("GET")).isSameAs(table.lookup("Get"));
    assertThat(cmd("GET").name()).isEqualTo("GET");
  }

  @Test
  void classifiesBySafety() {
    assertClass(READ_ONLY, "GET", "MGET", "PING", "HGETALL", "EXISTS", "TTL", "XREAD", "WAIT");
    // a re-run leaves the same data and gives the same reply
    assertClass(
        IDEMPOTENT_SAME_REPLY,
        "SET", "MSET", "HMSET", "LSET", "SETEX", "PSETEX", "SETRANGE", "GETEX", "EXPIRE",
        "PEXPIRE", "EXPIREAT", "PEXPIREAT", "SUNIONSTORE", "ZUNIONSTORE", "BITOP", "PFMERGE",
        "HSETEX", "HEXPIRE", "XSETID");
    // a re-run leaves the same data, but its reply counts only what it changed
    assertClass(
        IDEMPOTENT_STATE,
        "DEL", "UNLINK", "HSET", "HDEL", "SADD", "SREM", "ZADD", "ZREM", "PFADD", "GEOADD",
        "SETBIT", "BITFIELD", "PERSIST", "HPERSIST", "XACK", "XDEL", "XTRIM", "ZREMRANGEBYSCORE",
        "VADD", "VREM");
    assertClass(
        NOT_IDEMPOTENT,
        "INCR", "LPUSH", "APPEND", "EVAL", "PUBLISH", "GETDEL", "GETSET", "SETNX", "HSETNX",
        "MSETNX", "RENAME", "RENAMENX", "LREM", "LTRIM", "ZREMRANGEBYRANK", "COPY", "SWAPDB",
        "RESTORE", "FLUSHALL", "XADD");
    assertClass(NEVER, "MULTI", "EXEC", "SUBSCRIBE", "AUTH", "SELECT", "SHUTDOWN", "HELLO");
  }

  private void assertClass(Safety expected, String... names) {
    Map<String, Safety> actual = new LinkedHashMap<>();
    Map<String, Safety> wanted = new LinkedHashMap<>();
    for (String name : names) {
      assertThat(table.known()).as(name).containsKey(name);
      actual.put(name, cmd(name).baseSafety());
      wanted.put(name, expected);
    }
    assertThat(actual).isEqualTo(wanted);
  }

  /** Every row of commands.tsv has a known class, seven columns and a unique name. */
  @Test
  void everyCommandInTheTableHasAValidClass() throws Exception {
    Set<String> classes = new HashSet<>(Arrays.asList("R", "S", "T", "N", "X", "C"));
    Set<String> subClasses = new HashSet<>(Arrays.asList("R", "S", "T", "N", "X"));
    List<String> names = new ArrayList<>();
    try (InputStream in = CommandTable.class.getResourceAsStream("commands.tsv");
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        String[] f = line.split("\t");
        assertThat(f).as(line).hasSize(7);
        assertThat(classes).as(line).contains(f[1]);
        if (f[1].equals("C")) {
          for (String part : f[6].split(",")) {
            String[] sub = part.split(":");
            assertThat(sub).as(line).hasSize(2);
            assertThat(subClasses).as(line + " " + part).contains(sub[1]);
          }
        } else {
          assertThat(f[6]).as(line).isEqualTo("-");
        }
        names.add(f[0]);
      }
    }
    assertThat(names).doesNotHaveDuplicates().hasSizeGreaterThan(240);
    assertThat(table.known().keySet()).containsExactlyInAnyOrderElementsOf(names);
  }

  @Test
  void optionDependentCommandsAreClassifiedByTheirArguments() {
    assertThat(cmd("SET").safety(TestArgs.of("k", "v"))).isEqualTo(IDEMPOTENT_SAME_REPLY);
    assertThat(cmd("SET").safety(TestArgs.of("k", "v", "EX", "10"))).isEqualTo(IDEMPOTENT_SAME_REPLY);
    assertThat(cmd("SET").safety(TestArgs.of("k", "v", "GET"))).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("SET").safety(TestArgs.of("k", "v", "nx"))).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("SET").safety(TestArgs.of("k", "v", "PX", "5", "XX"))).isEqualTo(NOT_IDEMPOTENT);
    // Redis 8.4 compare-and-set: a re-run finds its own value, not the one it compared with
    assertThat(cmd("SET").safety(TestArgs.of("k", "v", "IFEQ", "old"))).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("SET").safety(TestArgs.of("k", "v", "IFDNE", "abc"))).isEqualTo(NOT_IDEMPOTENT);
    // the value itself is never taken for an option
    assertThat(cmd("SET").safety(TestArgs.of("k", "NX"))).isEqualTo(IDEMPOTENT_SAME_REPLY);
    assertThat(cmd("ZADD").safety(TestArgs.of("z", "1", "m"))).isEqualTo(IDEMPOTENT_STATE);
    assertThat(cmd("ZADD").safety(TestArgs.of("z", "CH", "GT", "1", "m"))).isEqualTo(IDEMPOTENT_STATE);
    assertThat(cmd("ZADD").safety(TestArgs.of("z", "INCR", "1", "m"))).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("BITFIELD").safety(TestArgs.of("k", "SET", "u8", "0", "1")))
        .isEqualTo(IDEMPOTENT_STATE); // replies with the old value
    assertThat(cmd("BITFIELD").safety(TestArgs.of("k", "INCRBY", "u8", "0", "1")))
        .isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("HSETEX").safety(TestArgs.of("h", "EX", "10", "FIELDS", "1", "f", "v")))
        .isEqualTo(IDEMPOTENT_SAME_REPLY);
    assertThat(cmd("HSETEX").safety(TestArgs.of("h", "FNX", "FIELDS", "1", "f", "v")))
        .isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("INCR").safety(TestArgs.of("k"))).isEqualTo(NOT_IDEMPOTENT);
  }

  @Test
  void expiryCommandsAreClassifiedByTheirConditionAndTime() {
    assertThat(cmd("EXPIRE").safety(TestArgs.of("k", "10"))).isEqualTo(IDEMPOTENT_SAME_REPLY);
    for (String condition : new String[] {"NX", "XX", "GT", "lt"}) {
      assertThat(cmd("EXPIRE").safety(TestArgs.of("k", "10", condition)))
          .as(condition)
          .isEqualTo(NOT_IDEMPOTENT);
    }
    assertThat(cmd("HEXPIRE").safety(TestArgs.of("h", "10", "LT", "FIELDS", "1", "f")))
        .isEqualTo(NOT_IDEMPOTENT);
    // a time that deletes the key: 1 (deleted), then 0 (no such key)
    assertThat(cmd("EXPIRE").safety(TestArgs.of("k", "0"))).isEqualTo(IDEMPOTENT_STATE);
    assertThat(cmd("PEXPIRE").safety(TestArgs.of("k", "-5"))).isEqualTo(IDEMPOTENT_STATE);
    assertThat(cmd("HPEXPIRE").safety(TestArgs.of("h", "0", "FIELDS", "1", "f")))
        .isEqualTo(IDEMPOTENT_STATE);
    long nowSeconds = System.currentTimeMillis() / 1000;
    assertThat(cmd("EXPIREAT").safety(TestArgs.of("k", "1"))).isEqualTo(IDEMPOTENT_STATE);
    assertThat(cmd("EXPIREAT").safety(TestArgs.of("k", String.valueOf(nowSeconds + 30))))
        .isEqualTo(IDEMPOTENT_STATE); // within clock skew of now: may be past on the server
    assertThat(cmd("EXPIREAT").safety(TestArgs.of("k", String.valueOf(nowSeconds + 3600))))
        .isEqualTo(IDEMPOTENT_SAME_REPLY);
    assertThat(cmd("PEXPIREAT").safety(TestArgs.of("k", String.valueOf(nowSeconds * 1000))))
        .isEqualTo(IDEMPOTENT_STATE);
    assertThat(cmd("PEXPIREAT").safety(TestArgs.of("k", String.valueOf((nowSeconds + 3600) * 1000))))
        .isEqualTo(IDEMPOTENT_SAME_REPLY);
    assertThat(cmd("HEXPIREAT").safety(TestArgs.of("h", "1", "FIELDS", "1", "f")))
        .isEqualTo(IDEMPOTENT_STATE);
    // GETEX ... EXAT <past> is a GETDEL: a re-run finds nothing to return
    assertThat(cmd("GETEX").safety(TestArgs.of("k", "EX", "10"))).isEqualTo(IDEMPOTENT_SAME_REPLY);
    assertThat(cmd("GETEX").safety(TestArgs.of("k", "EXAT", "1"))).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("GETEX").safety(TestArgs.of("k", "PXAT", String.valueOf((nowSeconds + 3600) * 1000))))
        .isEqualTo(IDEMPOTENT_SAME_REPLY);
    assertThat(cmd("HGETEX").safety(TestArgs.of("h", "PXAT", "1", "FIELDS", "1", "f")))
        .isEqualTo(NOT_IDEMPOTENT);
  }

  @Test
  void storeCommandsAreNotIdempotentWhenTheyReadTheirOwnDestination() {
    assertThat(cmd("ZUNIONSTORE").safety(TestArgs.of("d", "2", "a", "b")))
        .isEqualTo(IDEMPOTENT_SAME_REPLY);
    // accumulating into the destination: a re-run adds b's scores again
    assertThat(cmd("ZUNIONSTORE").safety(TestArgs.of("d", "2", "d", "b"))).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("SDIFFSTORE").safety(TestArgs.of("d", "a", "d"))).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("ZRANGESTORE").safety(TestArgs.of("z", "z", "1", "-1"))).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("BITOP").safety(TestArgs.of("AND", "d", "a", "b"))).isEqualTo(IDEMPOTENT_SAME_REPLY);
    assertThat(cmd("BITOP").safety(TestArgs.of("XOR", "d", "d", "b"))).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("SORT").safety(TestArgs.of("l"))).isEqualTo(READ_ONLY);
    assertThat(cmd("SORT").safety(TestArgs.of("l", "STORE", "d"))).isEqualTo(IDEMPOTENT_SAME_REPLY);
    assertThat(cmd("SORT").safety(TestArgs.of("l", "LIMIT", "1", "5", "STORE", "l")))
        .isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("GEORADIUS").safety(TestArgs.of("g", "0", "0", "5", "km", "STOREDIST", "g")))
        .isEqualTo(NOT_IDEMPOTENT);
    // HyperLogLog merge takes the maximum per register: merging into a source is idempotent
    assertThat(cmd("PFMERGE").safety(TestArgs.of("d", "d", "x"))).isEqualTo(IDEMPOTENT_SAME_REPLY);
  }

  @Test
  void containerCommandsAreClassifiedBySubcommand() {
    assertThat(cmd("CLIENT").safety(TestArgs.of("GETNAME"))).isEqualTo(READ_ONLY);
    // connection state: a retry may run on another pooled connection
    assertThat(cmd("CLIENT").safety(TestArgs.of("setname", "x"))).isEqualTo(NEVER);
    assertThat(cmd("CLIENT").safety(TestArgs.of("TRACKING", "on"))).isEqualTo(NEVER);
    assertThat(cmd("CLIENT").safety(TestArgs.of("REPLY", "OFF"))).isEqualTo(NEVER);
    assertThat(cmd("CLIENT").safety(TestArgs.of("KILL", "ID", "1"))).isEqualTo(NEVER);
    assertThat(cmd("CONFIG").safety(TestArgs.of("GET", "maxmemory"))).isEqualTo(READ_ONLY);
    assertThat(cmd("CONFIG").safety(TestArgs.of("SET", "maxmemory", "1mb")))
        .isEqualTo(IDEMPOTENT_SAME_REPLY);
    assertThat(cmd("SCRIPT").safety(TestArgs.of("LOAD", "return 1"))).isEqualTo(IDEMPOTENT_SAME_REPLY);
    assertThat(cmd("XGROUP").safety(TestArgs.of("CREATECONSUMER", "s", "g", "c")))
        .isEqualTo(IDEMPOTENT_STATE);
    assertThat(cmd("XGROUP").safety(TestArgs.of("CREATE", "s", "g", "$")))
        .isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("CLIENT").safety(TestArgs.of("NEWTHING"))).isEqualTo(NOT_IDEMPOTENT);
  }

  @Test
  void unknownCommandsAreNeverConsideredSafeAndAreRemembered() {
    CommandInfo a = cmd("json.set");
    assertThat(a.name()).isEqualTo("JSON.SET");
    assertThat(a.baseSafety()).isEqualTo(NOT_IDEMPOTENT);
    assertThat(a.id()).isGreaterThanOrEqualTo(table.knownCount());
    assertThat(cmd("JSON.SET")).isSameAs(a);
  }

  @Test
  void blockTimesOfBlockingCommands() {
    assertThat(cmd("GET").isBlockingCommand()).isFalse();
    assertThat(cmd("BLPOP").blockMillis(TestArgs.of("a", "b", "5"))).isEqualTo(5000);
    assertThat(cmd("BLPOP").blockMillis(TestArgs.of("a", "0.25"))).isEqualTo(250);
    assertThat(cmd("BLPOP").blockMillis(TestArgs.of("a", "0"))).isEqualTo(-1);
    assertThat(cmd("BRPOPLPUSH").blockMillis(TestArgs.of("a", "b", "2"))).isEqualTo(2000);
    assertThat(cmd("BLMOVE").blockMillis(TestArgs.of("a", "b", "LEFT", "RIGHT", "3")))
        .isEqualTo(3000);
    assertThat(cmd("BZPOPMIN").blockMillis(TestArgs.of("z", "1.5"))).isEqualTo(1500);
    assertThat(cmd("BLMPOP").blockMillis(TestArgs.of("4", "2", "a", "b", "LEFT")))
        .isEqualTo(4000);
    assertThat(cmd("BZMPOP").blockMillis(TestArgs.of("0", "1", "z", "MIN"))).isEqualTo(-1);
    assertThat(cmd("XREAD").blockMillis(TestArgs.of("COUNT", "1", "BLOCK", "700", "STREAMS", "s", "$")))
        .isEqualTo(700);
    assertThat(cmd("XREAD").blockMillis(TestArgs.of("STREAMS", "s", "0"))).isZero();
    // a stream named BLOCK after STREAMS is a key, not the option
    assertThat(cmd("XREAD").blockMillis(TestArgs.of("STREAMS", "BLOCK", "0"))).isZero();
    assertThat(
            cmd("XREADGROUP")
                .blockMillis(TestArgs.of("GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")))
        .isEqualTo(-1);
    assertThat(cmd("WAIT").blockMillis(TestArgs.of("1", "100"))).isEqualTo(100);
    assertThat(cmd("WAIT").blockMillis(TestArgs.of("1", "0"))).isEqualTo(-1);
  }

  @Test
  void keySpecs() {
    CommandInfo mset = cmd("MSET");
    assertThat(mset.isKey(0, 4)).isTrue();
    assertThat(mset.isKey(1, 4)).isFalse();
    assertThat(mset.isKey(2, 4)).isTrue();
    assertThat(mset.isKey(3, 4)).isFalse();
    CommandInfo blpop = cmd("BLPOP");
    assertThat(blpop.isKey(0, 3)).isTrue();
    assertThat(blpop.isKey(1, 3)).isTrue();
    assertThat(blpop.isKey(2, 3)).isFalse(); // the timeout
    assertThat(cmd("AUTH").isKey(0, 1)).isFalse();
  }
}
