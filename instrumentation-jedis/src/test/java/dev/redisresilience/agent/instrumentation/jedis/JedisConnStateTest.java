package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.agent.core.CommandTable;
import dev.redisresilience.agent.telemetry.Operation;
import dev.redisresilience.agent.telemetry.Telemetry;
import dev.redisresilience.agent.testing.TestTelemetry;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The per-connection state stays bounded whatever the application does with the connection. */
class JedisConnStateTest {
  @Test
  void repliesNeverReadCannotGrowThePendingQueue() {
    TestTelemetry.reset();
    JedisConnState s = new JedisConnState();
    for (int i = 0; i < JedisConnState.MAX_PENDING + 500; i++) { // e.g. after CLIENT REPLY OFF
      Operation op =
          Telemetry.jedis().start(CommandTable.get().lookup("SET".getBytes(StandardCharsets.US_ASCII)), null);
      s.push(op);
    }
    int waiting = 0;
    while (s.poll() != null) {
      waiting++;
    }
    assertThat(waiting).isEqualTo(JedisConnState.MAX_PENDING);
    assertThat(TestTelemetry.spans()).hasSize(500); // the oldest were ended, not leaked
  }
}
