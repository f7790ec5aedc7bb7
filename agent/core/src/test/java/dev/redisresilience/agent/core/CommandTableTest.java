package dev.redisresilience.agent.core;

import static dev.redisresilience.agent.core.CommandInfo.Safety.IDEMPOTENT;
import static dev.redisresilience.agent.core.CommandInfo.Safety.NEVER;
import static dev.redisresilience.agent.core.CommandInfo.Safety.NOT_IDEMPOTENT;
import static dev.redisresilience.agent.core.CommandInfo.Safety.READ_ONLY;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
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
    assertThat(cmd("GET").baseSafety()).isEqualTo(READ_ONLY);
    assertThat(cmd("MGET").baseSafety()).isEqualTo(READ_ONLY);
    assertThat(cmd("PING").baseSafety()).isEqualTo(READ_ONLY);
    assertThat(cmd("DEL").baseSafety()).isEqualTo(IDEMPOTENT);
    assertThat(cmd("HSET").baseSafety()).isEqualTo(IDEMPOTENT);
    assertThat(cmd("INCR").baseSafety()).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("LPUSH").baseSafety()).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("EVAL").baseSafety()).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("PUBLISH").baseSafety()).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("MULTI").baseSafety()).isEqualTo(NEVER);
    assertThat(cmd("EXEC").baseSafety()).isEqualTo(NEVER);
    assertThat(cmd("SUBSCRIBE").baseSafety()).isEqualTo(NEVER);
    assertThat(cmd("AUTH").baseSafety()).isEqualTo(NEVER);
    assertThat(cmd("SELECT").baseSafety()).isEqualTo(NEVER);
    assertThat(cmd("SHUTDOWN").baseSafety()).isEqualTo(NEVER);
  }

  @Test
  void optionDependentCommandsAreClassifiedByTheirArguments() {
    assertThat(cmd("SET").safety(TestArgs.of("k", "v"))).isEqualTo(IDEMPOTENT);
    assertThat(cmd("SET").safety(TestArgs.of("k", "v", "EX", "10"))).isEqualTo(IDEMPOTENT);
    assertThat(cmd("SET").safety(TestArgs.of("k", "v", "GET"))).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("SET").safety(TestArgs.of("k", "v", "nx"))).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("SET").safety(TestArgs.of("k", "v", "PX", "5", "XX"))).isEqualTo(NOT_IDEMPOTENT);
    // the value itself is never taken for an option
    assertThat(cmd("SET").safety(TestArgs.of("k", "NX"))).isEqualTo(IDEMPOTENT);
    assertThat(cmd("ZADD").safety(TestArgs.of("z", "1", "m"))).isEqualTo(IDEMPOTENT);
    assertThat(cmd("ZADD").safety(TestArgs.of("z", "INCR", "1", "m"))).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("EXPIRE").safety(TestArgs.of("k", "10"))).isEqualTo(IDEMPOTENT);
    assertThat(cmd("EXPIRE").safety(TestArgs.of("k", "10", "NX"))).isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("BITFIELD").safety(TestArgs.of("k", "SET", "u8", "0", "1")))
        .isEqualTo(IDEMPOTENT);
    assertThat(cmd("BITFIELD").safety(TestArgs.of("k", "INCRBY", "u8", "0", "1")))
        .isEqualTo(NOT_IDEMPOTENT);
    assertThat(cmd("SORT").safety(TestArgs.of("l"))).isEqualTo(READ_ONLY);
    assertThat(cmd("SORT").safety(TestArgs.of("l", "STORE", "d"))).isEqualTo(IDEMPOTENT);
    assertThat(cmd("INCR").safety(TestArgs.of("k"))).isEqualTo(NOT_IDEMPOTENT);
  }

  @Test
  void containerCommandsAreClassifiedBySubcommand() {
    assertThat(cmd("CLIENT").safety(TestArgs.of("GETNAME"))).isEqualTo(READ_ONLY);
    assertThat(cmd("CLIENT").safety(TestArgs.of("setname", "x"))).isEqualTo(IDEMPOTENT);
    assertThat(cmd("CLIENT").safety(TestArgs.of("KILL", "ID", "1"))).isEqualTo(NEVER);
    assertThat(cmd("CONFIG").safety(TestArgs.of("GET", "maxmemory"))).isEqualTo(READ_ONLY);
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
