package dev.redisresilience.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redisresilience.harness.MaintenanceSimulator.ClientRecord;
import dev.redisresilience.harness.MaintenanceSimulator.Endpoint;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The maintenance simulator in front of two real redis-servers, spoken to with raw sockets: what
 * a client receives is decoded with {@link RespFrame} and compared frame by frame.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MaintenanceSimulatorTest {
  private static final Duration WAIT = Duration.ofSeconds(5);
  static RedisServer primaryServer;
  static RedisServer targetServer;
  MaintenanceSimulator sim;
  final List<Client> clients = new ArrayList<>();

  @BeforeAll
  static void startServers() {
    primaryServer = RedisServer.start();
    targetServer = RedisServer.start();
  }

  @AfterAll
  static void stopServers() {
    if (primaryServer != null) {
      primaryServer.close();
    }
    if (targetServer != null) {
      targetServer.close();
    }
  }

  @BeforeEach
  void start() {
    primaryServer.flushAll();
    targetServer.flushAll();
    sim = MaintenanceSimulator.start(primaryServer, targetServer);
  }

  @AfterEach
  void stop() {
    for (Client c : clients) {
      c.close();
    }
    sim.close();
  }

  // --- the opt-in --------------------------------------------------------------------------------

  @Test
  void optInIsAnsweredInItsPlaceWhenPipelinedBetweenCommands() throws IOException {
    primaryServer.command("SET", "k", "value");
    Client c = connect(sim.primaryPort());
    // Replies from redis are held back, the simulator's own answer is not: only keeping the
    // reply order puts the OK between PONG and the value.
    sim.proxy(Endpoint.PRIMARY).delayReplies(Duration.ofMillis(300));
    c.send(
        RespFrame.command("PING"),
        RespFrame.command("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip"),
        RespFrame.command("GET", "k"));
    assertThat(c.next()).isEqualTo(RespFrame.simple("PONG"));
    assertThat(c.next()).isEqualTo(RespFrame.simple("OK"));
    assertThat(c.next()).isEqualTo(RespFrame.bulk("value"));

    ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, WAIT);
    assertThat(rec.endpoint()).isEqualTo(Endpoint.PRIMARY);
    assertThat(rec.endpointType()).isEqualTo("internal-ip");
    assertThat(rec.optInCommands()).isEqualTo(1);
    assertThat(rec.commandNames()).containsExactly("PING", "CLIENT", "GET");
    assertThat(rec.commands().get(1))
        .containsExactly("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip");
    // answered by the simulator, never forwarded: redis-server saw two commands
    assertThat(sim.proxy(Endpoint.PRIMARY).commandsForwarded()).isEqualTo(2);
  }

  @Test
  void optInInLowerCaseAndInlineFormAndOffAndErrors() throws IOException {
    Client c = connect(sim.primaryPort());
    c.sendRaw("client maint_notifications on moving-endpoint-type External-FQDN\r\nping\r\n");
    assertThat(c.next()).isEqualTo(RespFrame.simple("OK"));
    assertThat(c.next()).isEqualTo(RespFrame.simple("PONG"));
    ClientRecord rec = sim.awaitClient(ClientRecord::optedIn, WAIT);
    assertThat(rec.endpointType()).isEqualTo("external-fqdn");

    c.send(RespFrame.command("client", "maint_notifications", "off"));
    assertThat(c.next()).isEqualTo(RespFrame.simple("OK"));
    assertThat(rec.optedIn()).isFalse();
    assertThat(rec.endpointType()).isNull();

    c.send(RespFrame.command("Client", "Maint_Notifications", "On"));
    assertThat(c.next()).isEqualTo(RespFrame.simple("OK"));
    assertThat(rec.optedIn()).isTrue();
    assertThat(rec.endpointType()).isNull();

    c.send(RespFrame.command("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "bogus"));
    assertThat(c.next()).isEqualTo(RespFrame.error("ERR invalid moving-endpoint-type: bogus"));
    c.send(RespFrame.command("CLIENT", "MAINT_NOTIFICATIONS", "MAYBE"));
    assertThat(c.next().text()).startsWith("ERR syntax error in CLIENT MAINT_NOTIFICATIONS");
    assertThat(rec.optedIn()).as("errors leave the state as it was").isTrue();
    assertThat(rec.optInCommands()).isEqualTo(5);

    // other CLIENT subcommands reach redis-server
    c.send(RespFrame.command("CLIENT", "SETNAME", "sim-test"));
    assertThat(c.next()).isEqualTo(RespFrame.simple("OK"));
    c.send(RespFrame.command("CLIENT", "GETNAME"));
    assertThat(c.next()).isEqualTo(RespFrame.bulk("sim-test"));
  }

  @Test
  void withoutSupportTheOptInReachesRedisWhichRejectsIt() throws IOException {
    sim.optInSupported(false);
    Client c = connect(sim.primaryPort());
    c.send(RespFrame.command("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "none"));
    RespFrame reply = c.next();
    assertThat(reply.type()).isEqualTo(RespFrame.Type.SIMPLE_ERROR);
    assertThat(reply.text()).startsWith("ERR");
    ClientRecord rec = sim.awaitClient(r -> r.optInCommands() == 1, WAIT);
    assertThat(rec.optedIn()).isFalse();
    assertThat(sim.proxy(Endpoint.PRIMARY).commandsForwarded()).isEqualTo(1);
  }

  @Test
  void faultRulesWinOverTheOptInAnswer() throws IOException {
    FaultProxy proxy = sim.proxy(Endpoint.PRIMARY);
    RespFrame optIn =
        RespFrame.command("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip");
    Client c = connect(sim.primaryPort());

    // an injected error takes the opt-in's place
    proxy.injectError("CLIENT", "ERR injected", 1);
    c.send(optIn);
    assertThat(c.next()).isEqualTo(RespFrame.error("ERR injected"));
    ClientRecord rec = sim.awaitClient(r -> r.optInCommands() == 1, WAIT);
    assertThat(rec.optedIn()).isFalse();

    // a black hole swallows it: no answer, not opted in; the next reply is PING's
    proxy.blackhole(true);
    c.send(optIn);
    c.socket.setSoTimeout(500);
    assertThatThrownBy(c::next).hasRootCauseInstanceOf(SocketTimeoutException.class);
    c.socket.setSoTimeout(5000);
    proxy.blackhole(false);
    c.send(RespFrame.command("PING"));
    assertThat(c.next()).isEqualTo(RespFrame.simple("PONG"));
    assertThat(rec.optedIn()).isFalse();
    assertThat(rec.optInCommands()).isEqualTo(2);

    // with no rule left it is answered
    c.send(optIn);
    assertThat(c.next()).isEqualTo(RespFrame.simple("OK"));
    assertThat(rec.optedIn()).isTrue();

    // a reset before forwarding resets the connection instead of answering
    proxy.resetBeforeForwarding("CLIENT", 1);
    c.send(RespFrame.command("CLIENT", "MAINT_NOTIFICATIONS", "OFF"));
    assertThatThrownBy(c::next).isInstanceOf(UncheckedIOException.class);
    sim.awaitClient(ClientRecord::closed, WAIT);
    assertThat(rec.optedIn()).as("the OFF was never answered").isTrue();
    assertThat(rec.commandNames()).containsExactly("CLIENT", "CLIENT", "PING", "CLIENT", "CLIENT");
  }

  @Test
  void longArgumentsAreCutInTheRecord() throws IOException {
    Client c = connect(sim.primaryPort());
    c.send(RespFrame.command("set", "k", "x".repeat(1000)));
    assertThat(c.next()).isEqualTo(RespFrame.simple("OK"));
    assertThat(primaryServer.command("STRLEN", "k")).isEqualTo(":1000");
    ClientRecord rec = sim.awaitClient(r -> true, WAIT);
    assertThat(rec.commands().get(0))
        .containsExactly("SET", "k", "x".repeat(200) + "...(1000 bytes)");
  }

  @Test
  void recordsProtocolCloseAndRedactsCredentials() throws IOException {
    Client c = connect(sim.primaryPort());
    c.send(RespFrame.command("AUTH", "user", "s3cret"));
    assertThat(c.next().type()).isEqualTo(RespFrame.Type.SIMPLE_ERROR); // no password configured
    ClientRecord rec = sim.awaitClient(r -> true, WAIT);
    assertThat(rec.requestedProtocol()).isEqualTo(2);
    c.send(RespFrame.command("HELLO", "3", "SETNAME", "x"));
    assertThat(c.next().type()).isEqualTo(RespFrame.Type.MAP);
    assertThat(rec.requestedProtocol()).isEqualTo(3);
    assertThat(rec.commands().get(0)).containsExactly("AUTH", "***", "***");
    assertThat(rec.toString()).doesNotContain("s3cret");
    assertThat(rec.closed()).isFalse();
    c.close();
    sim.awaitClient(ClientRecord::closed, WAIT);
  }

  // --- pushes ------------------------------------------------------------------------------------

  @Test
  void aPushSentWhileAReplyIsBeingForwardedArrivesAfterThatReply() throws IOException {
    String big = "v".repeat(4 << 20); // far more than the socket buffers hold
    primaryServer.command("SET", "big", big);
    Client c = connect(sim.primaryPort());
    c.send(RespFrame.command("HELLO", "3"));
    assertThat(c.next().type()).isEqualTo(RespFrame.Type.MAP);
    c.send(RespFrame.command("GET", "big"));
    // The first byte of the reply is here, the rest is still on its way through the proxy.
    int first = c.in.read();
    assertThat((char) first).isEqualTo('$');
    RespFrame moving = MaintenanceNotification.moving(7, 15, sim.targetAddress());
    assertThat(sim.pushToAll(Endpoint.PRIMARY, moving)).isEqualTo(1);
    RespFrame.Decoder rest =
        new RespFrame.Decoder(
            new SequenceInputStream(new ByteArrayInputStream(new byte[] {(byte) first}), c.in));
    RespFrame reply = rest.next();
    assertThat(reply.type()).isEqualTo(RespFrame.Type.BULK_STRING);
    assertThat(reply.text()).hasSize(big.length());
    assertThat(rest.next()).isEqualTo(moving);
  }

  @Test
  void pushesGoToOneConnectionOrToTheOptedInOnes() throws IOException {
    Client a = connect(sim.primaryPort());
    Client b = connect(sim.primaryPort());
    a.send(RespFrame.command("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip"));
    assertThat(a.next()).isEqualTo(RespFrame.simple("OK"));
    b.send(RespFrame.command("PING"));
    assertThat(b.next()).isEqualTo(RespFrame.simple("PONG"));
    ClientRecord recA = sim.awaitClient(ClientRecord::optedIn, WAIT);
    ClientRecord recB = sim.awaitClient(r -> !r.optedIn(), WAIT);

    RespFrame migrating = MaintenanceNotification.migrating(1, 10, "1");
    assertThat(sim.pushToOptedIn(Endpoint.PRIMARY, migrating)).isEqualTo(1);
    assertThat(a.next()).isEqualTo(migrating);

    RespFrame failingOver = MaintenanceNotification.failingOver(2, 5, "1");
    assertThat(sim.push(recB, failingOver)).isTrue();
    assertThat(b.next()).isEqualTo(failingOver);

    // nothing else was queued for either: their next frames are their own replies
    a.send(RespFrame.command("PING"));
    b.send(RespFrame.command("PING"));
    assertThat(a.next()).isEqualTo(RespFrame.simple("PONG"));
    assertThat(b.next()).isEqualTo(RespFrame.simple("PONG"));

    RespFrame migrated = MaintenanceNotification.migrated(1, "1");
    assertThat(sim.pushToAll(Endpoint.PRIMARY, migrated)).isEqualTo(2);
    assertThat(a.next()).isEqualTo(migrated);
    assertThat(b.next()).isEqualTo(migrated);
    assertThat(sim.pushToAll(Endpoint.TARGET, migrated)).isZero();

    b.close();
    sim.awaitClient(ClientRecord::closed, WAIT);
    assertThat(sim.push(recB, migrated)).as("closed connection").isFalse();
    assertThat(recA.closed()).isFalse();
  }

  @Test
  void malformedBytesArriveExactlyAsGiven() throws IOException {
    Client c = connect(sim.primaryPort());
    c.send(RespFrame.command("PING"));
    assertThat(c.next()).isEqualTo(RespFrame.simple("PONG"));
    ClientRecord rec = sim.awaitClient(r -> true, WAIT);
    assertThat(sim.push(rec, MaintenanceNotification.unknown("REBALANCING", 3))).isTrue();
    assertThat(c.next()).isEqualTo(MaintenanceNotification.unknown("REBALANCING", 3));
    byte[] broken = MaintenanceNotification.brokenPushBytes();
    assertThat(sim.pushRaw(rec, broken)).isTrue();
    byte[] got = c.in.readNBytes(broken.length);
    assertThat(new String(got, StandardCharsets.US_ASCII))
        .isEqualTo(new String(broken, StandardCharsets.US_ASCII));
  }

  // --- slow window -------------------------------------------------------------------------------

  @Test
  void slowWindowDelaysRepliesThenStops() throws IOException {
    Client c = connect(sim.primaryPort());
    c.send(RespFrame.command("PING"));
    assertThat(c.next()).isEqualTo(RespFrame.simple("PONG"));
    sim.slowReplies(Duration.ofSeconds(2), Duration.ofMillis(300));
    long t0 = System.nanoTime();
    c.send(RespFrame.command("INCR", "n"));
    // a client with a 1 s command timeout would give up on this one
    c.socket.setSoTimeout(1000);
    assertThatThrownBy(c::next).hasRootCauseInstanceOf(SocketTimeoutException.class);
    c.socket.setSoTimeout(5000);
    assertThat(c.next()).isEqualTo(RespFrame.integer(1));
    assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(Duration.ofSeconds(2).toNanos());
    // the window (300 ms) is over: the next reply is not held back
    c.socket.setSoTimeout(1000);
    c.send(RespFrame.command("INCR", "n"));
    assertThat(c.next()).isEqualTo(RespFrame.integer(2));
    assertThat(primaryServer.getLong("n")).isEqualTo(2);
  }

  @Test
  void slowWindowOnTheTargetLeavesThePrimaryAlone() throws IOException {
    Client onTarget = connect(sim.targetPort());
    Client onPrimary = connect(sim.primaryPort());
    sim.slowReplies(Endpoint.TARGET, Duration.ofMillis(1500), Duration.ofSeconds(5));
    long t0 = System.nanoTime();
    onTarget.send(RespFrame.command("PING"));
    onPrimary.send(RespFrame.command("PING"));
    onPrimary.socket.setSoTimeout(1000);
    assertThat(onPrimary.next()).isEqualTo(RespFrame.simple("PONG"));
    assertThat(onTarget.next()).isEqualTo(RespFrame.simple("PONG"));
    assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(Duration.ofMillis(1500).toNanos());
    sim.stopSlowReplies(Endpoint.TARGET);
    onTarget.socket.setSoTimeout(1000);
    onTarget.send(RespFrame.command("PING"));
    assertThat(onTarget.next()).isEqualTo(RespFrame.simple("PONG"));
  }

  // --- the second endpoint -----------------------------------------------------------------------

  @Test
  void movingTargetIsASecondServerWithItsOwnOptIn() throws IOException {
    assertThat(sim.targetAddress()).isEqualTo("127.0.0.1:" + sim.targetPort());
    assertThat(sim.targetPort()).isNotEqualTo(sim.primaryPort());
    Client onPrimary = connect(sim.primaryPort());
    onPrimary.send(RespFrame.command("HELLO", "3"));
    assertThat(onPrimary.next().type()).isEqualTo(RespFrame.Type.MAP);
    onPrimary.send(RespFrame.command("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip"));
    assertThat(onPrimary.next()).isEqualTo(RespFrame.simple("OK"));
    onPrimary.send(RespFrame.command("INCR", "counter"));
    assertThat(onPrimary.next()).isEqualTo(RespFrame.integer(1));

    RespFrame moving = MaintenanceNotification.moving(1, 15, sim.targetAddress());
    assertThat(sim.pushToOptedIn(Endpoint.PRIMARY, moving)).isEqualTo(1);
    RespFrame got = onPrimary.next();
    assertThat(got).isEqualTo(moving);

    // follow the notification, as a client would
    String[] hostPort = got.element(3).text().split(":");
    assertThat(hostPort[0]).isEqualTo("127.0.0.1");
    Client onTarget = connect(Integer.parseInt(hostPort[1]));
    onTarget.send(RespFrame.command("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", "internal-ip"));
    assertThat(onTarget.next()).isEqualTo(RespFrame.simple("OK"));
    onTarget.send(RespFrame.command("INCR", "counter"));
    assertThat(onTarget.next()).as("a different server: its own counter").isEqualTo(RespFrame.integer(1));
    onTarget.send(RespFrame.command("INFO", "server"));
    String targetRunId = runId(onTarget.next().text());
    onPrimary.send(RespFrame.command("INFO", "server"));
    assertThat(runId(onPrimary.next().text())).isNotEqualTo(targetRunId);

    assertThat(sim.server(Endpoint.PRIMARY).getLong("counter")).isEqualTo(1);
    assertThat(sim.server(Endpoint.TARGET).getLong("counter")).isEqualTo(1);
    ClientRecord onTargetRecord = sim.awaitClient(r -> r.endpoint() == Endpoint.TARGET, WAIT);
    assertThat(onTargetRecord.optedIn()).isTrue();
    assertThat(onTargetRecord.commandNames()).containsExactly("CLIENT", "INCR", "INFO");
    assertThat(sim.clients()).hasSize(2);
  }

  @Test
  void ownedServersAreStartedAndStopped() throws IOException {
    MaintenanceSimulator own = MaintenanceSimulator.start();
    RedisServer p = own.server(Endpoint.PRIMARY);
    RedisServer t = own.server(Endpoint.TARGET);
    try (Client c = new Client(own.primaryPort())) {
      c.send(RespFrame.command("PING"));
      assertThat(c.next()).isEqualTo(RespFrame.simple("PONG"));
    } finally {
      own.close();
    }
    assertThat(p.isRunning()).isFalse();
    assertThat(t.isRunning()).isFalse();
    assertThatThrownBy(() -> MaintenanceSimulator.start(primaryServer, primaryServer))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // -----------------------------------------------------------------------------------------------

  private static String runId(String info) {
    for (String line : info.split("\r\n")) {
      if (line.startsWith("run_id:")) {
        return line;
      }
    }
    throw new AssertionError("no run_id in INFO: " + info);
  }

  private Client connect(int port) throws IOException {
    Client c = new Client(port);
    clients.add(c);
    return c;
  }

  /** A raw socket: writes bytes, decodes what comes back one frame at a time. */
  static final class Client implements AutoCloseable {
    final Socket socket = new Socket();
    final InputStream in;
    final OutputStream out;
    final RespFrame.Decoder decoder;

    Client(int port) throws IOException {
      try {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        socket.setSoTimeout(5000);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
      } catch (IOException e) {
        socket.close();
        throw e;
      }
      decoder = new RespFrame.Decoder(in);
    }

    /** All in one write: a pipelined burst. */
    void send(RespFrame... commands) throws IOException {
      java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
      for (RespFrame f : commands) {
        b.writeBytes(f.encode());
      }
      out.write(b.toByteArray());
      out.flush();
    }

    void sendRaw(String s) throws IOException {
      out.write(s.getBytes(StandardCharsets.UTF_8));
      out.flush();
    }

    RespFrame next() {
      RespFrame f = decoder.next();
      if (f == null) {
        throw new UncheckedIOException(new IOException("connection closed"));
      }
      return f;
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // best effort
      }
    }
  }
}
