package dev.redisresilience.agent.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class QueryTextTest {
  private static String q(String command, String... args) {
    return QueryText.sanitize(CommandTable.get().lookup(command), TestArgs.of(args), 256);
  }

  @Test
  void keepsKeysAndMasksValues() {
    assertThat(q("SET", "user:1", "secret-value")).isEqualTo("SET user:1 ?");
    assertThat(q("SET", "k", "v", "EX", "10")).isEqualTo("SET k ? ? ?");
    assertThat(q("GET", "k")).isEqualTo("GET k");
    assertThat(q("MSET", "a", "1", "b", "2")).isEqualTo("MSET a ? b ?");
    assertThat(q("HSET", "h", "f", "v")).isEqualTo("HSET h ? ?");
    assertThat(q("BLPOP", "a", "b", "5")).isEqualTo("BLPOP a b ?");
    assertThat(q("PING")).isEqualTo("PING");
  }

  @Test
  void neverShowsCredentials() {
    assertThat(q("AUTH", "hunter2")).isEqualTo("AUTH ?");
    assertThat(q("AUTH", "default", "hunter2")).isEqualTo("AUTH ? ?");
    assertThat(q("HELLO", "3", "AUTH", "default", "hunter2")).isEqualTo("HELLO ? ? ? ?");
    assertThat(q("CONFIG", "SET", "requirepass", "hunter2")).isEqualTo("CONFIG SET ? ?");
    assertThat(q("ACL", "SETUSER", "bob", ">hunter2")).isEqualTo("ACL SETUSER ? ?");
    assertThat(q("MIGRATE", "h", "6379", "", "0", "5000", "AUTH", "hunter2", "KEYS", "a"))
        .doesNotContain("hunter2");
    assertThat(q("CLIENT", "SETNAME", "app")).isEqualTo("CLIENT SETNAME ?");
    assertThat(q("EVAL", "return redis.call('get', KEYS[1])", "1", "k")).isEqualTo("EVAL ? ? ?");
  }

  @Test
  void unknownCommandsAreFullyMasked() {
    assertThat(q("JSON.SET", "doc", "$", "{\"a\":1}")).isEqualTo("JSON.SET ? ? ?");
    assertThat(q("CLIENT", "WHATEVER", "x")).isEqualTo("CLIENT ? ?");
  }

  @Test
  void isBoundedInLengthAndArguments() {
    String longKey = "k".repeat(500);
    String text = QueryText.sanitize(CommandTable.get().lookup("GET"), TestArgs.of(longKey), 64);
    assertThat(text).hasSize(64).startsWith("GET kkk").endsWith("...");

    String[] many = new String[200];
    for (int i = 0; i < many.length; i++) {
      many[i] = i % 2 == 0 ? "k" + i : "v";
    }
    String mset = QueryText.sanitize(CommandTable.get().lookup("MSET"), TestArgs.of(many), 4096);
    assertThat(mset).endsWith(" ...").startsWith("MSET k0 ? k2 ?");
    assertThat(mset.split(" ")).hasSize(1 + QueryText.MAX_ARGS + 1);
  }

  @Test
  void binaryKeysAreDescribedNotCopied() {
    byte[] binary = {0x01, 0x02, (byte) 0xFF};
    assertThat(QueryText.sanitize(CommandTable.get().lookup("GET"), TestArgs.raw(binary), 256))
        .isEqualTo("GET <binary 3 bytes>");
    byte[] utf8 = "ключ".getBytes(StandardCharsets.UTF_8);
    assertThat(QueryText.sanitize(CommandTable.get().lookup("GET"), TestArgs.raw(utf8), 256))
        .isEqualTo("GET ключ");
  }
}
