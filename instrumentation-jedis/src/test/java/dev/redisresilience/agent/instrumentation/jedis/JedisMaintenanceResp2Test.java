package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.redisresilience.harness.MaintenanceSimulator;
import dev.redisresilience.harness.MaintenanceSimulator.ClientRecord;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import redis.clients.jedis.Jedis;

/**
 * The documented RESP2 behaviour, on every Jedis version (4.x has only RESP2): the agent does not
 * switch a client to RESP3 and sends no maintenance opt-in, so the connection is untouched.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JedisMaintenanceResp2Test {
  @Test
  void aResp2ConnectionIsNotOptedIn() {
    try (MaintenanceSimulator sim = MaintenanceSimulator.start();
        Jedis jedis = new Jedis("127.0.0.1", sim.primaryPort())) {
      assertThat(jedis.incr("n")).isEqualTo(1);
      ClientRecord rec = sim.awaitClient(r -> r.commandNames().contains("INCR"), Duration.ofSeconds(5));
      assertThat(rec.requestedProtocol()).isNotEqualTo(3);
      assertThat(rec.optInCommands()).isZero();
    }
  }
}
