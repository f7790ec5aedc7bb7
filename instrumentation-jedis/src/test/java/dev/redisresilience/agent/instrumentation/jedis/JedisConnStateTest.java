package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.core.CommandTable;
import dev.redisresilience.agent.telemetry.Operation;
import dev.redisresilience.agent.telemetry.Telemetry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-connection state stays bounded whatever the application does with the connection. */
class JedisConnStateTest {
  @Test
  void repliesNeverReadCannotGrowThePendingQueue() {
    JedisConnState s = new JedisConnState();
    List<Operation> sent = new ArrayList<>();
    for (int i = 0; i < JedisConnState.MAX_PENDING + 500; i++) { // e.g. after CLIENT REPLY OFF
      Operation op =
          Telemetry.jedis().start(CommandTable.get().lookup("SET".getBytes(StandardCharsets.US_ASCII)), null);
      sent.add(op);
      s.push(op);
    }
    int waiting = 0;
    while (s.poll() != null) {
      waiting++;
    }
    assertThat(waiting).isEqualTo(JedisConnState.MAX_PENDING);
    assertThat(sent.subList(0, 500)).allMatch(Operation::isEnded); // the oldest were ended, not leaked
    assertThat(sent.subList(500, sent.size())).noneMatch(Operation::isEnded);
  }
}
