package dev.redisresilience.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * FaultProxy against a real redis-server, spoken to with a raw-socket RESP client (no Redis client
 * library: what the client receives is asserted byte for byte).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class FaultProxyTest {
  private static final String LOADING = "LOADING Redis is loading the dataset in memory";

  static RedisServer server;
  FaultProxy proxy;
  final List<Resp> clients = new ArrayList<>();

  @BeforeAll
  static void startServer() {
    server = RedisServer.start();
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
    }
  }

  @BeforeEach
  void startProxy() {
    server.flushAll();
    proxy = FaultProxy.start(server.port());
  }

  @AfterEach
  void stopProxy() {
    for (Resp c : clients) {
      c.close();
    }
    proxy.close();
  }

  // --- forwarding --------------------------------------------------------------------------------

  @Test
  void forwardsCommandsAndReplies() throws IOException {
    Resp c = connect();
    assertThat(c.call("SET", "k", "v")).isEqualTo("+OK\r\n");
    assertThat(c.call("GET", "k")).isEqualTo("$1\r\nv\r\n");
    assertThat(c.call("GET", "missing")).isEqualTo("$-1\r\n");
    assertThat(c.call("get", "k")).isEqualTo("$1\r\nv\r\n");
    assertThat(server.command("GET", "k")).isEqualTo("v");
    assertThat(proxy.commandsForwarded()).isEqualTo(4);
    assertThat(proxy.commandLog()).containsExactly("SET", "GET", "GET", "GET");
    assertThat(proxy.port()).isNotEqualTo(server.port());
  }

  @Test
  void pipelinedBurstGetsEveryReplyInOrder() throws IOException {
    Resp c = connect();
    ByteArrayOutputStream burst = new ByteArrayOutputStream();
    List<String> expected = new ArrayList<>();
    long counter = 0;
    for (int i = 0; i < 100; i++) {
      if (i % 10 == 0) {
        // large values make replies span many reads on both sides of the proxy
        String big = "x".repeat(20_000 + i);
        burst.writeBytes(Resp.command("ECHO", big));
        expected.add(bulk(big));
      } else {
        burst.writeBytes(Resp.command("INCR", "counter"));
        expected.add(":" + (++counter) + "\r\n");
      }
    }
    c.sendRaw(burst.toByteArray());
    for (int i = 0; i < 100; i++) {
      assertThat(c.read()).as("reply %d", i).isEqualTo(expected.get(i));
    }
    assertThat(proxy.commandsForwarded()).isEqualTo(100);
    assertThat(proxy.commandLog()).hasSize(100).startsWith("ECHO", "INCR").endsWith("INCR");
    assertThat(server.getLong("counter")).isEqualTo(90);
  }

  @Test
  void inlineCommands() throws IOException {
    Resp c = connect();
    c.sendRaw("PING\r\necho hello\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    assertThat(c.read()).isEqualTo("+PONG\r\n");
    assertThat(c.read()).isEqualTo("$5\r\nhello\r\n");
    assertThat(c.call("PING")).isEqualTo("+PONG\r\n");
    assertThat(proxy.commandLog()).containsExactly("PING", "ECHO", "PING");
    assertThat(proxy.commandsForwarded()).isEqualTo(3);
  }

  @Test
  void resp3MapsAreFramedAsOneReply() throws IOException {
    Resp c = connect();
    assertThat(c.call("HELLO", "3")).startsWith("%7\r\n").contains("$5\r\nproto\r\n:3\r\n");
    assertThat(c.call("HSET", "h", "a", "1", "b", "2")).isEqualTo(":2\r\n");
    assertThat(c.call("CONFIG", "GET", "maxmemory"))
        .isEqualTo("%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n");
    // The injected error must come after the whole map: a proxy that took the map's four
    // elements for separate replies would put it in the middle.
    proxy.injectError("GET", "ERR injected", 1);
    c.sendRaw(Resp.command("HGETALL", "h"), Resp.command("GET", "x"), Resp.command("PING"));
    assertThat(c.read()).isEqualTo("%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
    assertThat(c.read()).isEqualTo("-ERR injected\r\n");
    assertThat(c.read()).isEqualTo("+PONG\r\n");
  }

  @Test
  void serverClosingClosesTheClientAfterItsReply() throws IOException {
    Resp c = connect();
    assertThat(c.call("QUIT")).isEqualTo("+OK\r\n");
    assertDropped(c);
    awaitTrue(() -> proxy.openConnections() == 0, "connection closed after QUIT");
  }

  // --- injectError -------------------------------------------------------------------------------

  @Test
  void injectErrorAnswersInsteadOfTheServer() throws IOException {
    Resp c = connect();
    assertThat(c.call("SET", "k", "v")).isEqualTo("+OK\r\n");
    proxy.injectError("GET", LOADING, 1);
    assertThat(c.call("GET", "k")).isEqualTo("-" + LOADING + "\r\n");
    assertThat(c.call("GET", "k")).isEqualTo("$1\r\nv\r\n");
    assertThat(proxy.commandsForwarded()).isEqualTo(2);
    assertThat(proxy.commandLog()).containsExactly("SET", "GET", "GET");
  }

  @Test
  void injectedErrorKeepsItsPlaceInAPipeline() throws IOException {
    Resp c = connect();
    proxy.injectError("GET", LOADING, 1);
    c.sendRaw(
        Resp.command("SET", "a", "1"), Resp.command("GET", "a"), Resp.command("SET", "b", "2"));
    assertThat(c.read()).isEqualTo("+OK\r\n");
    assertThat(c.read()).isEqualTo("-" + LOADING + "\r\n");
    assertThat(c.read()).isEqualTo("+OK\r\n");
    assertThat(proxy.commandsForwarded()).isEqualTo(2);
  }

  @Test
  void injectedErrorWaitsBehindADelayedReply() throws IOException {
    Resp c = connect();
    proxy.delayReplies(Duration.ofMillis(200));
    proxy.injectError("GET", LOADING, 1);
    c.sendRaw(
        Resp.command("SET", "a", "1"), Resp.command("GET", "a"), Resp.command("SET", "b", "2"));
    assertThat(c.read()).isEqualTo("+OK\r\n");
    assertThat(c.read()).isEqualTo("-" + LOADING + "\r\n");
    assertThat(c.read()).isEqualTo("+OK\r\n");
  }

  @Test
  void injectErrorUntilClearedForAnyCommand() throws IOException {
    Resp c = connect();
    proxy.injectError(null, "ERR boom", -1);
    assertThat(c.call("PING")).isEqualTo("-ERR boom\r\n");
    assertThat(c.call("SET", "k", "v")).isEqualTo("-ERR boom\r\n");
    assertThat(c.call("ECHO", "x")).isEqualTo("-ERR boom\r\n");
    assertThat(proxy.commandsForwarded()).isZero();
    proxy.clearFaults();
    assertThat(c.call("PING")).isEqualTo("+PONG\r\n");
    assertThat(server.command("EXISTS", "k")).isEqualTo(":0");
  }

  @Test
  void injectErrorMatchesCaseInsensitivelyAndCountsDown() throws IOException {
    Resp c = connect();
    proxy.injectError("get", "ERR first", 1);
    proxy.injectError("GET", "ERR second", 2);
    assertThat(c.call("PING")).isEqualTo("+PONG\r\n");
    assertThat(c.call("Get", "k")).isEqualTo("-ERR first\r\n");
    assertThat(c.call("GET", "k")).isEqualTo("-ERR second\r\n");
    assertThat(c.call("get", "k")).isEqualTo("-ERR second\r\n");
    assertThat(c.call("GET", "k")).isEqualTo("$-1\r\n");
  }

  // --- resets ------------------------------------------------------------------------------------

  @Test
  void resetBeforeForwardingNeverRunsTheCommand() throws IOException {
    server.command("SET", "n", "5");
    Resp c = connect();
    assertThat(c.call("PING")).isEqualTo("+PONG\r\n");
    proxy.resetBeforeForwarding("INCR", 1);
    c.send("INCR", "n");
    assertReset(c);
    assertThat(server.getLong("n")).isEqualTo(5);
    assertThat(proxy.commandsForwarded()).isEqualTo(1);
    assertThat(proxy.commandLog()).containsExactly("PING", "INCR");
    // used up: the next INCR goes through
    assertThat(connect().call("INCR", "n")).isEqualTo(":6\r\n");
    awaitTrue(() -> proxy.openConnections() == 1, "the reset connection is gone");
  }

  @Test
  void resetBeforeForwardingEveryNthLetsTheOthersThrough() throws IOException {
    server.command("SET", "n", "0");
    proxy.resetBeforeForwardingEvery("INCR", 2, 2); // the 2nd and 4th INCR, then no more
    assertThat(connect().call("INCR", "n")).isEqualTo(":1\r\n");
    Resp second = connect();
    second.send("INCR", "n");
    assertReset(second);
    assertThat(connect().call("INCR", "n")).isEqualTo(":2\r\n");
    Resp fourth = connect();
    fourth.send("INCR", "n");
    assertReset(fourth);
    assertThat(connect().call("INCR", "n")).isEqualTo(":3\r\n");
    assertThat(connect().call("INCR", "n")).isEqualTo(":4\r\n"); // used up
    assertThat(server.getLong("n")).isEqualTo(4);
  }

  @Test
  void resetAfterForwardingRunsTheCommandButLosesTheReply() throws IOException {
    server.command("SET", "n", "5");
    Resp c = connect();
    proxy.resetAfterForwarding("incr", 1);
    c.send("INCR", "n");
    assertReset(c);
    assertThat(server.getLong("n")).isEqualTo(6);
    assertThat(proxy.commandsForwarded()).isEqualTo(1);
    assertThat(connect().call("INCR", "n")).isEqualTo(":7\r\n");
  }

  @Test
  void resetAfterCommandsResetsEveryConnectionOnce() throws IOException {
    Resp other = connect();
    assertThat(other.call("PING")).isEqualTo("+PONG\r\n");
    long before = proxy.commandsForwarded();
    proxy.resetAfterCommands(3);
    Resp c = connect();
    assertThat(c.call("INCR", "n")).isEqualTo(":1\r\n");
    assertThat(c.call("INCR", "n")).isEqualTo(":2\r\n");
    assertThat(c.call("INCR", "n")).isEqualTo(":3\r\n");
    try {
      c.send("INCR", "n");
    } catch (IOException alreadyReset) {
      // the reset may beat the fourth command
    }
    assertDropped(c);
    assertDropped(other);
    assertThat(proxy.commandsForwarded() - before).isEqualTo(3);
    assertThat(server.getLong("n")).isEqualTo(3);
    awaitTrue(() -> proxy.openConnections() == 0, "every connection reset");
    // once: a new connection is left alone
    Resp again = connect();
    for (int i = 4; i <= 8; i++) {
      assertThat(again.call("INCR", "n")).isEqualTo(":" + i + "\r\n");
    }
  }

  @Test
  void resetAllConnectionsResetsEveryOpenConnection() throws IOException {
    Resp a = connect();
    Resp b = connect();
    assertThat(a.call("PING")).isEqualTo("+PONG\r\n");
    assertThat(b.call("PING")).isEqualTo("+PONG\r\n");
    assertThat(proxy.openConnections()).isEqualTo(2);
    proxy.resetAllConnections();
    assertReset(a);
    assertReset(b);
    assertThat(proxy.openConnections()).isZero();
    assertThat(connect().call("PING")).isEqualTo("+PONG\r\n");
    assertThat(proxy.openConnections()).isEqualTo(1);
  }

  // --- delay, blackhole, refuse ------------------------------------------------------------------

  @Test
  void delayRepliesHoldsEachReplyBackInOrder() throws IOException {
    Resp c = connect();
    proxy.delayReplies(Duration.ofMillis(300));
    long start = System.nanoTime();
    assertThat(c.call("PING")).isEqualTo("+PONG\r\n");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(
        Duration.ofMillis(300));
    c.sendRaw(Resp.command("INCR", "n"), Resp.command("INCR", "n"), Resp.command("INCR", "n"));
    assertThat(c.read()).isEqualTo(":1\r\n");
    assertThat(c.read()).isEqualTo(":2\r\n");
    assertThat(c.read()).isEqualTo(":3\r\n");
    proxy.delayReplies(Duration.ZERO);
    assertThat(c.call("PING")).isEqualTo("+PONG\r\n");
  }

  @Test
  void blackholeSwallowsCommandsUntilTurnedOff() throws IOException {
    Resp c = connect();
    assertThat(c.call("PING")).isEqualTo("+PONG\r\n");
    proxy.blackhole(true);
    c.send("INCR", "n");
    assertNoReplyWithin(c, 500);
    Resp fresh = connect();
    fresh.send("PING");
    assertNoReplyWithin(fresh, 300);
    // the proxy reads (and logs) the swallowed commands on its own threads
    awaitTrue(() -> proxy.commandLog().size() == 3, "both swallowed commands read");
    assertThat(server.getLong("n")).isZero();
    assertThat(proxy.commandsForwarded()).isEqualTo(1);
    assertThat(proxy.commandLog()).containsExactly("PING", "INCR", "PING");

    proxy.blackhole(false);
    assertThat(connect().call("PING")).isEqualTo("+PONG\r\n");
    // nothing stray is owed on the old connections: their next command gets its own reply
    assertThat(c.call("INCR", "n")).isEqualTo(":1\r\n");
    assertThat(fresh.call("ECHO", "back")).isEqualTo("$4\r\nback\r\n");
  }

  @Test
  void blackholeStillDeliversRepliesAlreadyInFlight() throws IOException {
    Resp c = connect();
    proxy.delayReplies(Duration.ofMillis(400));
    c.send("ECHO", "in-flight");
    awaitTrue(() -> proxy.commandsForwarded() == 1, "ECHO forwarded");
    proxy.blackhole(true);
    c.send("ECHO", "swallowed");
    assertThat(c.read()).isEqualTo("$9\r\nin-flight\r\n");
    assertNoReplyWithin(c, 500);
    assertThat(proxy.commandsForwarded()).isEqualTo(1);
  }

  @Test
  void refuseConnectionsClosesAndReopensTheSamePort() throws IOException {
    int port = proxy.port();
    Resp existing = connect();
    assertThat(existing.call("PING")).isEqualTo("+PONG\r\n");
    proxy.refuseConnections(true);
    assertThatThrownBy(() -> new Resp(port)).isInstanceOf(ConnectException.class);
    // open connections are not affected
    assertThat(existing.call("PING")).isEqualTo("+PONG\r\n");
    proxy.refuseConnections(true); // idempotent
    proxy.refuseConnections(false);
    assertThat(proxy.port()).isEqualTo(port);
    assertThat(connect().call("PING")).isEqualTo("+PONG\r\n");
    proxy.refuseConnections(false); // idempotent
    assertThat(connect().call("PING")).isEqualTo("+PONG\r\n");
    assertThat(proxy.openConnections()).isEqualTo(3);
  }

  @Test
  void clearFaultsTurnsEverythingOff() throws IOException {
    Resp c = connect();
    assertThat(c.call("PING")).isEqualTo("+PONG\r\n");
    proxy.delayReplies(Duration.ofSeconds(5));
    proxy.injectError("GET", "ERR x", -1);
    proxy.resetBeforeForwarding("SET", -1);
    proxy.resetAfterForwarding("INCR", -1);
    proxy.resetAfterCommands(1);
    proxy.blackhole(true);
    proxy.refuseConnections(true);
    proxy.clearFaults();
    Resp fresh = connect();
    long start = System.nanoTime();
    assertThat(fresh.call("SET", "k", "v")).isEqualTo("+OK\r\n");
    assertThat(fresh.call("GET", "k")).isEqualTo("$1\r\nv\r\n");
    assertThat(fresh.call("INCR", "n")).isEqualTo(":1\r\n");
    assertThat(c.call("INCR", "n")).isEqualTo(":2\r\n");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
    assertThat(proxy.openConnections()).isEqualTo(2);
  }

  // --- push frames -------------------------------------------------------------------------------

  @Test
  void sendPushWritesAResp3PushFrame() throws IOException {
    Resp c = connect();
    assertThat(c.call("HELLO", "3")).startsWith("%7\r\n");
    proxy.sendPush("MOVING", "1", "15", "127.0.0.1:6380");
    assertThat(c.read()).isEqualTo(">4\r\n$6\r\nMOVING\r\n:1\r\n:15\r\n$14\r\n127.0.0.1:6380\r\n");
    proxy.sendPush("invalidate", null, "-7");
    assertThat(c.read()).isEqualTo(">3\r\n$10\r\ninvalidate\r\n_\r\n:-7\r\n");
    assertThat(c.call("PING")).isEqualTo("+PONG\r\n");
    assertThat(proxy.commandLog()).containsExactly("HELLO", "PING");
  }

  @Test
  void sendPushReachesEveryConnection() throws IOException {
    Resp a = connect();
    Resp b = connect();
    assertThat(a.call("HELLO", "3")).startsWith("%");
    assertThat(b.call("HELLO", "3")).startsWith("%");
    proxy.sendPush("MIGRATING", "2", "10");
    String frame = ">3\r\n$9\r\nMIGRATING\r\n:2\r\n:10\r\n";
    assertThat(a.read()).isEqualTo(frame);
    assertThat(b.read()).isEqualTo(frame);
  }

  @Test
  void sendPushNeverLandsInsideAReply() throws Exception {
    String big = "v".repeat(4 << 20);
    Resp c = connect();
    assertThat(c.call("HELLO", "3")).startsWith("%");
    assertThat(c.call("SET", "big", big)).isEqualTo("+OK\r\n");
    // Don't read yet: the 4 MB reply fills the socket buffers and stays mid-write while pushes
    // are sent.
    c.send("GET", "big");
    awaitTrue(() -> proxy.commandsForwarded() == 3, "GET forwarded");
    for (int i = 0; i < 20; i++) {
      proxy.sendPush("p", String.valueOf(i));
    }
    int pushes = 0;
    int bulks = 0;
    for (int i = 0; i < 21; i++) {
      String frame = c.read();
      if (frame.startsWith(">")) {
        assertThat(frame).isEqualTo(">2\r\n$1\r\np\r\n:" + pushes + "\r\n");
        pushes++;
      } else {
        assertThat(frame).isEqualTo(bulk(big));
        bulks++;
      }
    }
    assertThat(pushes).isEqualTo(20);
    assertThat(bulks).isEqualTo(1);
  }

  /**
   * A scripted upstream sends what redis-server never does on its own: attributes, streamed
   * strings and aggregates, every RESP3 type, a push frame ahead of a reply, one byte per write.
   */
  @Test
  void resp3FramingWithAttributesPushesAndFragmentedReplies() throws Exception {
    String push = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nfoo\r\n";
    String reply1 =
        "|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n*2\r\n:2039123\r\n:9543892\r\n";
    String reply2 =
        "*9\r\n%1\r\n+k\r\n~2\r\n#t\r\n_\r\n(3492890328409238509324850943850943825024385\r\n"
            + "=15\r\ntxt:Some string\r\n!21\r\nSYNTAX invalid syntax\r\n$-1\r\n*-1\r\n"
            + "$?\r\n;4\r\nHell\r\n;1\r\no\r\n;0\r\n"
            + "*?\r\n:1\r\n|1\r\n+a\r\n+b\r\n:2\r\n.\r\n"
            + "%?\r\n+x\r\n,inf\r\n.\r\n";
    String reply3 = "-ERR plain\r\n";
    String pushAfter = ">1\r\n+late\r\n";
    try (ServerSocket fake = new ServerSocket()) {
      fake.bind(new InetSocketAddress("127.0.0.1", 0));
      AtomicReference<Throwable> fakeError = new AtomicReference<>();
      CountDownLatch served = new CountDownLatch(1);
      Thread t =
          new Thread(
              () -> {
                try (Socket s = fake.accept()) {
                  s.setSoTimeout(5000);
                  InputStream in = new BufferedInputStream(s.getInputStream());
                  for (int i = 0; i < 3; i++) {
                    Resp.readCommand(in);
                  }
                  OutputStream out = s.getOutputStream();
                  for (byte b : (push + reply1 + reply2 + reply3 + pushAfter).getBytes(
                      StandardCharsets.US_ASCII)) {
                    out.write(b);
                    out.flush();
                  }
                  served.countDown();
                  // hold the connection open until the client is done
                  in.read();
                } catch (Throwable e) {
                  fakeError.set(e);
                  served.countDown();
                }
              },
              "fake-redis");
      t.setDaemon(true);
      t.start();
      try (FaultProxy p = FaultProxy.start(fake.getLocalPort())) {
        // If the push took a reply slot, or the attribute counted as a reply of its own, the
        // injected error would come out ahead of reply3.
        p.injectError("FOURTH", "ERR injected", 1);
        Resp c = new Resp(p.port());
        clients.add(c);
        c.sendRaw(
            Resp.command("FIRST"),
            Resp.command("SECOND"),
            Resp.command("THIRD"),
            Resp.command("FOURTH"));
        assertThat(c.read()).isEqualTo(push);
        assertThat(c.read()).isEqualTo(reply1);
        assertThat(c.read()).isEqualTo(reply2);
        assertThat(c.read()).isEqualTo(reply3);
        String last2 = c.read() + c.read();
        assertThat(served.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(fakeError.get()).isNull();
        // the late push came after every reply the server had; the injected one can be either
        // side of it (they are unrelated), but both arrive whole
        assertThat(last2).isIn(pushAfter + "-ERR injected\r\n", "-ERR injected\r\n" + pushAfter);
        assertThat(p.commandsForwarded()).isEqualTo(3);
        assertThat(p.commandLog()).containsExactly("FIRST", "SECOND", "THIRD", "FOURTH");
      }
    }
  }

  // --- counters and close ------------------------------------------------------------------------

  @Test
  void openConnectionsCountsLiveClientConnections() throws IOException {
    assertThat(proxy.openConnections()).isZero();
    Resp a = connect();
    Resp b = connect();
    assertThat(a.call("PING")).isEqualTo("+PONG\r\n");
    assertThat(b.call("PING")).isEqualTo("+PONG\r\n");
    assertThat(proxy.openConnections()).isEqualTo(2);
    a.close();
    awaitTrue(() -> proxy.openConnections() == 1, "one connection left");
    b.close();
    awaitTrue(() -> proxy.openConnections() == 0, "no connection left");
    assertThat(proxy.commandsForwarded()).isEqualTo(2);
    assertThat(proxy.commandLog()).containsExactly("PING", "PING");
  }

  @Test
  void closeClosesOpenConnectionsAndTheListener() throws IOException {
    Resp c = connect();
    assertThat(c.call("PING")).isEqualTo("+PONG\r\n");
    int port = proxy.port();
    long start = System.nanoTime();
    proxy.close();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    assertDropped(c);
    assertThat(proxy.openConnections()).isZero();
    assertThatThrownBy(() -> new Resp(port)).isInstanceOf(ConnectException.class);
    awaitTrue(
        () ->
            Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("fault-proxy-" + port + "-")),
        "the proxy's threads end");
    proxy.close(); // idempotent
  }

  @Test
  void encodePush() {
    assertThat(new String(FaultProxy.encodePush(), StandardCharsets.UTF_8)).isEqualTo(">0\r\n");
    assertThat(new String(FaultProxy.encodePush("é", "12a", "9"), StandardCharsets.UTF_8))
        .isEqualTo(">3\r\n$2\r\né\r\n$3\r\n12a\r\n:9\r\n");
  }

  // --- helpers -----------------------------------------------------------------------------------

  private Resp connect() throws IOException {
    Resp c = new Resp(proxy.port());
    clients.add(c);
    return c;
  }

  private static String bulk(String s) {
    return "$" + s.getBytes(StandardCharsets.UTF_8).length + "\r\n" + s + "\r\n";
  }

  /** The connection ended (EOF or reset), rather than just not answering. */
  private static void assertDropped(Resp c) {
    try {
      String reply = c.read();
      fail("expected the connection to be dropped, got a reply: " + reply);
    } catch (SocketTimeoutException e) {
      fail("expected the connection to be dropped, but it just did not answer", e);
    } catch (IOException expected) {
      // EOF or connection reset
    }
  }

  /** The connection was reset with a TCP RST, not closed with a FIN. */
  private static void assertReset(Resp c) {
    assertThatThrownBy(c::read)
        .isInstanceOf(SocketException.class)
        .isNotInstanceOf(SocketTimeoutException.class)
        .hasMessageContaining("reset");
  }

  private static void assertNoReplyWithin(Resp c, int millis) throws IOException {
    c.socket.setSoTimeout(millis);
    try {
      assertThatThrownBy(c::read).isInstanceOf(SocketTimeoutException.class);
    } finally {
      c.socket.setSoTimeout(Resp.TIMEOUT_MS);
    }
  }

  private static void awaitTrue(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("timed out waiting for: " + what);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail("interrupted");
      }
    }
  }

  /** A minimal RESP client: sends command arrays, reads one whole reply as its raw text. */
  static final class Resp implements AutoCloseable {
    static final int TIMEOUT_MS = 3000;
    final Socket socket;
    final InputStream in;
    final OutputStream out;

    Resp(int port) throws IOException {
      socket = new Socket();
      try {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        socket.setSoTimeout(TIMEOUT_MS);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
      } catch (IOException e) {
        socket.close();
        throw e;
      }
    }

    static byte[] command(String... args) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      b.writeBytes(("*" + args.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
      for (String a : args) {
        byte[] bytes = a.getBytes(StandardCharsets.UTF_8);
        b.writeBytes(("$" + bytes.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(bytes);
        b.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
      }
      return b.toByteArray();
    }

    void send(String... args) throws IOException {
      sendRaw(command(args));
    }

    /** All parts in one write, so the proxy sees them as one pipelined burst. */
    void sendRaw(byte[]... parts) throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      for (byte[] p : parts) {
        b.writeBytes(p);
      }
      out.write(b.toByteArray());
      out.flush();
    }

    String call(String... args) throws IOException {
      send(args);
      return read();
    }

    /** One complete reply (with any attribute before it), exactly as received. */
    String read() throws IOException {
      ByteArrayOutputStream raw = new ByteArrayOutputStream();
      readValue(in, raw);
      return raw.toString(StandardCharsets.UTF_8);
    }

    private static void readValue(InputStream in, ByteArrayOutputStream raw) throws IOException {
      String line = readLine(in, raw);
      char type = line.charAt(0);
      String rest = line.substring(1);
      switch (type) {
        case '$':
        case '!':
        case '=':
          if (rest.equals("?")) {
            while (true) {
              long n = Long.parseLong(readLine(in, raw).substring(1));
              if (n == 0) {
                return;
              }
              raw.writeBytes(readN(in, n + 2));
            }
          }
          long len = Long.parseLong(rest);
          if (len >= 0) {
            raw.writeBytes(readN(in, len + 2));
          }
          return;
        case '*':
        case '~':
        case '>':
        case '%':
        case '|':
          int per = type == '%' || type == '|' ? 2 : 1;
          if (rest.equals("?")) {
            while (true) {
              in.mark(1);
              int next = in.read();
              in.reset();
              if (next == '.') {
                readLine(in, raw);
                break;
              }
              readValue(in, raw);
            }
          } else {
            long n = Long.parseLong(rest);
            for (long i = 0; i < n * per; i++) {
              readValue(in, raw);
            }
          }
          if (type == '|') {
            readValue(in, raw);
          }
          return;
        default:
          return; // a one-line value
      }
    }

    private static byte[] readN(InputStream in, long n) throws IOException {
      byte[] b = in.readNBytes((int) n);
      if (b.length < n) {
        throw new EOFException("connection closed inside a reply");
      }
      return b;
    }

    /** A line without its CR LF; the raw bytes, CR LF included, go to {@code raw}. */
    private static String readLine(InputStream in, ByteArrayOutputStream raw) throws IOException {
      StringBuilder sb = new StringBuilder();
      while (true) {
        int c = in.read();
        if (c == -1) {
          throw new EOFException("connection closed");
        }
        raw.write(c);
        if (c == '\n' && sb.length() > 0 && sb.charAt(sb.length() - 1) == '\r') {
          return sb.substring(0, sb.length() - 1);
        }
        sb.append((char) c);
      }
    }

    /** Reads one command array off a server-side socket (for the scripted upstream). */
    static void readCommand(InputStream in) throws IOException {
      ByteArrayOutputStream ignored = new ByteArrayOutputStream();
      int n = Integer.parseInt(readLine(in, ignored).substring(1));
      for (int i = 0; i < n; i++) {
        int len = Integer.parseInt(readLine(in, ignored).substring(1));
        readN(in, len + 2);
      }
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
