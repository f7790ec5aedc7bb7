package dev.redisresilience.agent.instrumentation.jedis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redisresilience.agent.policy.ServerRegistry;
import dev.redisresilience.agent.testing.PolicyOverride;
import dev.redisresilience.agent.testing.TestTelemetry;
import dev.redisresilience.harness.FaultProxy;
import dev.redisresilience.harness.RedisServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.BuilderFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.CommandObject;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.JedisPoolConfig;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.args.ClientType;
import redis.clients.jedis.args.Rawable;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.ClientKillParams;

/**
 * The connection-safety rules, proven on the data in a real redis-server: a connection the agent
 * replaces carries the same user, database and session state, or the call fails; it never runs a
 * command on a bare socket or without the WATCH / tracking / SELECT the application set.
 */
class JedisSessionSafetyTest {
  static final String HOST = "127.0.0.1";
  static final AttributeKey<String> ERROR = AttributeKey.stringKey("error.type");
  static final int CYCLES = 20;
  static RedisServer server;

  @BeforeAll
  static void start() {
    // the default user stays usable (as on most servers), so a bare socket would write as it
    server = RedisServer.start("--user", "app", "on", ">s3cret", "~*", "&*", "+@all");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @BeforeEach
  void reset() {
    server.flushAll();
    TestTelemetry.reset();
  }

  static Jedis admin() {
    return new Jedis(HOST, server.port());
  }

  static DefaultJedisClientConfig.Builder app() {
    return DefaultJedisClientConfig.builder().user("app").password("s3cret");
  }

  static void killClients(Jedis admin) {
    admin.clientKill(ClientKillParams.clientKillParams().skipMe(ClientKillParams.SkipMe.YES).type(ClientType.NORMAL));
  }

  // --- 1. a failed replacement never lets the command run on a bare socket --------------------

  @Test
  void failedReconnectNeverWritesOutsideTheConfiguredDatabase() {
    replayFailsThenWrites(app().database(5).build(), false);
  }

  @Test
  void failedReconnectNeverWritesOutsideTheSelectedDatabase() {
    replayFailsThenWrites(app().build(), true);
  }

  /**
   * Every cycle: the connection is dropped while idle, the health check finds it dead, and the
   * first handshake of its replacement fails (the proxy resets the connection on AUTH). The write
   * must land in database 5, as user app, or fail: never in database 0 as the default user.
   */
  private void replayFailsThenWrites(DefaultJedisClientConfig config, boolean selectLater) {
    int ok = 0;
    long auths;
    try (FaultProxy proxy = FaultProxy.start(server.port());
        PolicyOverride p =
            PolicyOverride.with("health-check.interval", "50ms", "retry.backoff.base", "1ms", "retry.budget.tokens", "0");
        Jedis jedis = new Jedis(new HostAndPort(HOST, proxy.port()), config)) {
      if (selectLater) {
        jedis.select(5);
      }
      jedis.set("first", "x");
      for (int i = 0; i < CYCLES; i++) {
        proxy.resetAllConnections();
        TestTelemetry.sleep(80); // idle past the health-check interval
        proxy.resetBeforeForwarding("AUTH", 1); // the replacement's handshake fails
        try {
          jedis.set("k" + i, "v");
          ok++;
        } catch (JedisException e) {
          assertThat(e).hasMessageContaining("redis-resilience-agent");
        }
        proxy.clearFaults();
      }
      auths = proxy.commandLog().stream().filter(c -> c.startsWith("AUTH")).count();
    }
    try (Jedis admin = admin()) {
      assertThat(admin.dbSize()).as("keys written to database 0").isZero();
      admin.select(5);
      assertThat(admin.dbSize()).isEqualTo(1 + ok);
    }
    assertThat(ok).as("writes retried through a good reconnect").isEqualTo(CYCLES);
    assertThat(auths).as("handshakes: the refused one and the good one, every cycle").isGreaterThanOrEqualTo(1 + 2 * CYCLES);
  }

  // --- 2. state that cannot be restored: never reconnected in place, never retried elsewhere ---

  /**
   * WATCH, then the connection is lost, then another client changes the key: the application's
   * transaction must not commit on a new connection that holds no WATCH (a lost update).
   */
  @Test
  void aLostWatchIsNeverRecoveredIntoACommit() {
    int commits = 0;
    int refused = 0;
    try (JedisPool pool = new JedisPool(new JedisPoolConfig(), HOST, server.port());
        Jedis admin = admin();
        Jedis other = admin()) {
      other.set("balance", "0");
      for (int i = 0; i < CYCLES; i++) {
        try (Jedis jedis = pool.getResource()) {
          jedis.watch("balance");
          killClients(admin);
          other.set("balance", "other-" + i); // the change WATCH exists to notice
          try {
            String seen = jedis.get("balance");
            Transaction t = jedis.multi();
            t.set("balance", "mine-" + i + "-after-" + seen);
            if (t.exec() != null) {
              commits++;
            }
          } catch (JedisException e) {
            refused++;
          }
        }
        assertThat(other.get("balance")).isEqualTo("other-" + i);
      }
    }
    assertThat(commits).isZero();
    assertThat(refused).isEqualTo(CYCLES);
    List<SpanData> failedGets = spans("GET");
    failedGets.removeIf(s -> s.getAttributes().get(ERROR) == null); // the other client's reads
    assertThat(failedGets).hasSize(CYCLES)
        .allSatisfy(s -> assertThat(s.getAttributes().get(ERROR)).isEqualTo("session_state_lost"));
  }

  /**
   * A connection refused for its state is closed, not left open: a pipeline (which no prepare
   * step guards) must not send on it — Jedis 4/5 write to a connection marked broken and only
   * refuse the read, so a pipelined INCR would run with its outcome unknown to the application.
   */
  @Test
  void aConnectionRefusedForItsStateIsClosedAndSendsNothingMore() {
    try (PolicyOverride p = PolicyOverride.with("health-check.interval", "50ms", "timeout.command", "200ms");
        Jedis jedis = new Jedis(HOST, server.port());
        Jedis admin = admin()) {
      jedis.set("k", "0");
      jedis.watch("k");
      TestTelemetry.sleep(80); // idle: the next command health-checks first
      admin.clientPause(600); // the PING waits; its PONG comes after the check gave up
      assertThatThrownBy(() -> jedis.get("k")).isInstanceOf(JedisException.class).hasMessageContaining("WATCH");
      TestTelemetry.sleep(700);
      assertThatThrownBy(() -> {
            redis.clients.jedis.Pipeline pipeline = jedis.pipelined();
            redis.clients.jedis.Response<Long> r = pipeline.incr("n");
            pipeline.sync();
            throw new AssertionError("pipeline on a retired connection answered " + r.get());
          })
          .isInstanceOf(JedisException.class);
      TestTelemetry.sleep(100);
      assertThat(admin.get("n")).as("the pipelined INCR reached the server").isNull();
      assertThat(admin.get("k")).isEqualTo("0");
    }
  }

  /** A WATCH that did its job (EXEC answered null) is a classified outcome, not a success. */
  @Test
  void aWatchAbortIsClassified() {
    try (Jedis jedis = new Jedis(HOST, server.port());
        Jedis other = admin()) {
      jedis.set("k", "0");
      jedis.watch("k");
      other.set("k", "changed");
      Transaction t = jedis.multi();
      t.set("k", "mine");
      assertThat(t.exec()).isNull();
      assertThat(other.get("k")).isEqualTo("changed");
    }
    List<SpanData> multi = spans("MULTI");
    assertThat(multi).singleElement().satisfies(s -> assertThat(s.getAttributes().get(ERROR)).isEqualTo("watch_aborted"));
    assertThat(TestTelemetry.durationCount(TestTelemetry.attr("error.type", "watch_aborted"))).isGreaterThanOrEqualTo(1);
  }

  /** CLIENT TRACKING on: a new connection would get no invalidations, cached reads stale forever. */
  @Test
  void aConnectionWithTrackingIsNotReconnectedInPlace() {
    try (Jedis jedis = new Jedis(HOST, server.port());
        Jedis admin = admin()) {
      jedis.sendCommand(Protocol.Command.CLIENT, "TRACKING", "ON");
      jedis.set("k", "v");
      killClients(admin);
      assertThatThrownBy(() -> jedis.get("k"))
          .isInstanceOf(JedisException.class)
          .hasMessageContaining("CLIENT TRACKING");
    }
    assertThat(spans("GET").get(0).getAttributes().get(ERROR)).isEqualTo("session_state_lost");
  }

  /** A SELECT the agent did not see succeed (raw sendCommand): never guess the database. */
  @Test
  void aRawSelectIsNeverReplacedByTheWrongDatabase() {
    try (Jedis jedis = new Jedis(HOST, server.port());
        Jedis admin = admin()) {
      jedis.sendCommand(Protocol.Command.SELECT, "5");
      jedis.set("before", "1");
      killClients(admin);
      assertThatThrownBy(() -> jedis.set("after", "1"))
          .isInstanceOf(JedisException.class)
          .hasMessageContaining("a database chosen by a raw SELECT");
      assertThat(admin.dbSize()).as("keys in database 0").isZero();
      admin.select(5);
      assertThat(admin.exists("before")).isTrue();
    }
  }

  /** A name the application set itself would silently be gone on a new connection. */
  @Test
  void stateTheApplicationSetIsNotSilentlyDropped() {
    try (Jedis jedis = new Jedis(HOST, server.port());
        Jedis admin = admin()) {
      jedis.clientSetname("set-by-the-app");
      jedis.set("k", "v");
      killClients(admin);
      assertThatThrownBy(() -> jedis.get("k")) // a read the agent would otherwise retry in place
          .isInstanceOf(JedisException.class)
          .hasMessageContaining("connection state set by the application");
    }
    assertThat(spans("GET").get(0).getAttributes().get(ERROR)).isEqualTo("session_state_lost");
  }

  /** The handshake's own state (client name, database) is restored: such a connection recovers. */
  @Test
  void handshakeStateIsRestoredAndTheCallSucceeds() {
    try (Jedis jedis = new Jedis(new HostAndPort(HOST, server.port()), app().clientName("cfg").database(3).build());
        Jedis admin = admin()) {
      jedis.set("k", "1");
      killClients(admin);
      assertThat(jedis.get("k")).isEqualTo("1");
      assertThat(jedis.clientGetname()).isEqualTo("cfg");
    }
  }

  // --- 5. an agent fault after a call became current does not poison the thread ------------------

  @Test
  void aFaultInsideTheAgentLeavesLaterCallsInstrumented() {
    try (Jedis jedis = new Jedis(HOST, server.port())) {
      Rawable faulty = new FaultsWhenTheAgentReadsIt("nothing-here");
      CommandObject<List<String>> blpop =
          new CommandObject<>(new CommandArguments(Protocol.Command.BLPOP).add((Object) faulty).add((Object) "1"), BuilderFactory.STRING_LIST);
      assertThat(jedis.getConnection().executeCommand(blpop)).isNull(); // the app's call is unharmed
      TestTelemetry.reset();
      jedis.set("after", "1");
      assertThat(jedis.get("after")).isEqualTo("1");
    }
    assertThat(TestTelemetry.spans()).extracting(s -> s.getName().substring(0, s.getName().indexOf(' ')))
        .containsExactly("SET", "GET");
  }

  /** An application-supplied argument whose getRaw() throws when the agent's JedisArgs reads it. */
  static final class FaultsWhenTheAgentReadsIt implements Rawable {
    private final byte[] raw;

    FaultsWhenTheAgentReadsIt(String value) {
      raw = value.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public byte[] getRaw() {
      for (StackTraceElement e : new Throwable().getStackTrace()) {
        if (e.getClassName().endsWith(".JedisArgs")) {
          throw new IllegalStateException("fault injected into the agent's argument read");
        }
      }
      return raw;
    }
  }

  // --- 8. one reset of an established connection is not an outage ---------------------------------

  @Test
  void oneResetConnectionIsNoOutageAndCostsNoBudget() {
    long downtimeBefore = TestTelemetry.histogramCount("redis.client.connection.downtime", TestTelemetry.any());
    try (UnifiedJedis pooled = UnifiedClients.pooled(HOST, server.port());
        Jedis admin = admin()) {
      pooled.set("k", "v");
      double tokens = ServerRegistry.server("jedis", HOST, server.port()).budget().tokens();
      killClients(admin); // a load balancer's idle kill
      assertThat(pooled.get("k")).isEqualTo("v"); // retried on a new pooled connection
      // nothing taken (the successful retry may even give some back to a bucket not full)
      assertThat(ServerRegistry.server("jedis", HOST, server.port()).budget().tokens()).isGreaterThanOrEqualTo(tokens);
    }
    assertThat(TestTelemetry.logCount("redis.client.connection.down")).isZero();
    assertThat(TestTelemetry.logCount("redis.client.connection.restored")).isZero();
    assertThat(TestTelemetry.histogramCount("redis.client.connection.downtime", TestTelemetry.any()) - downtimeBefore)
        .isZero();
    assertThat(spans("GET").get(0).getAttributes().get(ERROR)).isNull();
  }

  private static List<SpanData> spans(String operation) {
    return TestTelemetry.spans().stream().filter(s -> s.getName().startsWith(operation + " ")).collect(java.util.stream.Collectors.toList());
  }
}
