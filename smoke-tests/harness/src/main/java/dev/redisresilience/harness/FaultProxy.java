package dev.redisresilience.harness;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * A RESP-aware TCP proxy on a free loopback port, between a Redis client and a real {@code
 * redis-server} on 127.0.0.1. Tests drive it to inject faults at RESP message boundaries: delayed
 * replies, injected error replies, connection resets before or after a command reaches the server,
 * a black hole, refused connects and server push frames.
 *
 * <p>It understands RESP2 and RESP3 well enough to frame messages (it never rewrites them): client
 * commands are arrays of bulk strings or inline lines; server replies are any RESP3 value, an
 * attribute ({@code |}) travels with the reply it precedes, and push frames ({@code >}) are not
 * replies to any command. Every fault rule applies to commands received after the call that set it.
 *
 * <p>Per client connection there is one upstream socket and three daemon threads: one reads
 * commands from the client, one reads replies from the server, and one is the only writer to the
 * client, which is what keeps replies in command order and pushes out of the middle of a reply.
 */
public final class FaultProxy implements AutoCloseable {
  private static final InetAddress LOOPBACK = loopback();
  private static final int LOG_LIMIT = 100_000;
  /** Longest RESP header or simple line; redis's own replies are far shorter. */
  private static final int MAX_LINE = 1 << 20;
  /** Redis rejects longer inline commands too (PROTO_INLINE_MAX_SIZE). */
  private static final int MAX_INLINE = 64 * 1024;
  /** Redis's default proto-max-bulk-len. */
  private static final long MAX_BULK = 512L << 20;
  private static final long MAX_ARGS = 1 << 20;
  private static final int MAX_DEPTH = 128;
  /**
   * Server bytes read but not yet written to a client before the proxy stops reading from the
   * server, so a client that stops reading (or a long delay) cannot grow the heap without bound.
   */
  private static final long MAX_QUEUED_BYTES = 64L << 20;
  private static final int CONNECT_TIMEOUT_MS = 2000;
  private static final long REBIND_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);
  /**
   * Commands whose replies are not one reply per command (one per channel, and in RESP3 they are
   * push frames): they get no reply slot, so their replies pass through as out-of-band frames
   * instead of consuming the slot of a later command.
   */
  private static final Set<String> PUBSUB =
      Set.of(
          "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE");

  private final int upstreamPort;
  private final int port;
  private volatile boolean closed;

  private final Object listenLock = new Object();
  private ServerSocket listener; // guarded by listenLock; null while refusing or closed
  private Thread acceptThread; // guarded by listenLock

  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
  private final AtomicInteger connectionIds = new AtomicInteger();
  private final AtomicLong forwarded = new AtomicLong();
  private final ArrayDeque<String> commandLog = new ArrayDeque<>(); // guarded by itself
  private volatile CommandHook commandHook;

  // Fault rules, all guarded by `rules`.
  private final Object rules = new Object();
  private long delayNanos;
  private boolean blackhole;
  private final List<Rule> injectRules = new ArrayList<>();
  private final List<Rule> resetBeforeRules = new ArrayList<>();
  private final List<Rule> resetAfterRules = new ArrayList<>();
  private long resetCountdown = -1;
  /**
   * Set when the resetAfterCommands countdown reaches zero and cleared when the reset happens: the
   * reset waits for the last counted command's reply to be delivered, and commands arriving
   * meanwhile are swallowed so that exactly n commands reach the server.
   */
  private Object pendingResetAll;

  private FaultProxy(int upstreamPort, ServerSocket listener) {
    this.upstreamPort = upstreamPort;
    this.listener = listener;
    this.port = listener.getLocalPort();
  }

  /** Starts a proxy on a free loopback port in front of {@code 127.0.0.1:upstreamPort}. */
  public static FaultProxy start(int upstreamPort) {
    if (upstreamPort <= 0 || upstreamPort > 65535) {
      throw new IllegalArgumentException("upstream port " + upstreamPort);
    }
    FaultProxy proxy = new FaultProxy(upstreamPort, bind(0));
    synchronized (proxy.listenLock) {
      proxy.startAccepting();
    }
    return proxy;
  }

  public int port() {
    return port;
  }

  /** Holds each server reply back {@code d} after it was read; {@link Duration#ZERO} is off. */
  public void delayReplies(Duration d) {
    Objects.requireNonNull(d, "d");
    if (d.isNegative()) {
      throw new IllegalArgumentException("negative delay " + d);
    }
    synchronized (rules) {
      delayNanos = d.toNanos();
    }
  }

  /**
   * Answers the next {@code times} matching commands (-1: until cleared) with {@code -errorLine}
   * instead of forwarding them; the error takes the command's place in the reply order.
   */
  public void injectError(String commandName, String errorLine, int times) {
    Objects.requireNonNull(errorLine, "errorLine");
    if (errorLine.indexOf('\r') >= 0 || errorLine.indexOf('\n') >= 0) {
      throw new IllegalArgumentException("an error line cannot contain CR or LF: " + errorLine);
    }
    byte[] reply = ("-" + errorLine + "\r\n").getBytes(StandardCharsets.UTF_8);
    addRule(injectRules, new Rule(commandName, times, reply));
  }

  /** Resets the connection (RST) instead of forwarding the next {@code times} matching commands. */
  public void resetBeforeForwarding(String commandName, int times) {
    addRule(resetBeforeRules, new Rule(commandName, times, null));
  }

  /**
   * Like {@link #resetBeforeForwarding}, but for every {@code every}-th matching command only
   * (the ones in between are forwarded): transient resets a retry can get through.
   */
  public void resetBeforeForwardingEvery(String commandName, int every, int times) {
    addRule(resetBeforeRules, new Rule(commandName, times, null, every));
  }

  /**
   * Forwards the next {@code times} matching commands, so the server executes them, and resets the
   * connection (RST) in place of delivering the reply: the client cannot tell whether it ran.
   */
  public void resetAfterForwarding(String commandName, int times) {
    addRule(resetAfterRules, new Rule(commandName, times, null));
  }

  /**
   * After {@code n} more commands have been forwarded (counted across connections) and the last
   * one's reply delivered, resets every open client connection once. Commands that arrive between
   * the n-th and the reset are swallowed, so the server sees exactly n. {@code n == 0} resets now.
   */
  public void resetAfterCommands(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("n must be >= 0: " + n);
    }
    if (n == 0) {
      resetAllConnections();
      return;
    }
    synchronized (rules) {
      resetCountdown = n;
      pendingResetAll = null;
    }
  }

  /**
   * On: commands (on new and existing connections) are read and dropped, never forwarded nor
   * answered; replies already owed by the server are still delivered. Off: new commands flow.
   */
  public void blackhole(boolean on) {
    synchronized (rules) {
      blackhole = on;
    }
  }

  /**
   * On: closes the listening socket so connects get ECONNREFUSED (open connections keep working).
   * Off: listens again on the same port, retrying the bind for up to 5 s.
   */
  public void refuseConnections(boolean on) {
    synchronized (listenLock) {
      if (closed) {
        return;
      }
      if (on) {
        stopListening();
      } else if (listener == null) {
        listener = rebind();
        startAccepting();
      }
    }
  }

  /** Resets (RST) every open client connection now. */
  public void resetAllConnections() {
    for (Connection c : connections) {
      c.reset();
    }
  }

  /**
   * Writes a RESP3 push frame to every open client connection, between messages: each part as a
   * bulk string, except parts that parse as a long (integer) and null (RESP3 null).
   */
  public void sendPush(String... parts) {
    byte[] frame = encodePush(parts);
    for (Connection c : connections) {
      c.enqueueOutOfBand(frame);
    }
  }

  /**
   * Lets a test answer some commands itself, per connection (ids as in {@link
   * #openConnectionIds()}); args are the command's name and arguments as sent.
   */
  public interface CommandHook {
    /** Every command received, before any rule (like {@link #commandLog()}). */
    default void onReceived(int connectionId, List<byte[]> args) {}

    /**
     * Asked only for a command no rule drops, resets or answers with an injected error (those
     * win): a raw RESP reply sends that back in the command's place in the reply order instead of
     * forwarding it (not counted as forwarded); null forwards it as usual. Runs under the proxy's
     * rule lock: keep it short and never call back into the proxy from it.
     */
    default byte[] answer(int connectionId, List<byte[]> args) {
      return null;
    }

    /** The client connection ended (closed, reset, or the server went away). */
    default void onClose(int connectionId) {}
  }

  /** Installs (or with null removes) the {@link CommandHook}; applies to the next command. */
  public void commandHook(CommandHook hook) {
    commandHook = hook;
  }

  /** Ids of the open client connections, in no particular order. */
  public List<Integer> openConnectionIds() {
    List<Integer> ids = new ArrayList<>();
    for (Connection c : connections) {
      ids.add(c.id);
    }
    return ids;
  }

  /**
   * Writes {@code bytes} as they are (a frame, or deliberately malformed bytes) to one open client
   * connection, between messages like {@link #sendPush}; false when no such connection is open.
   */
  public boolean sendRaw(int connectionId, byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    for (Connection c : connections) {
      if (c.id == connectionId) {
        return c.enqueueOutOfBand(bytes.clone());
      }
    }
    return false;
  }

  /** Turns every rule off: no delay, injection, reset or black hole, and stops refusing. */
  public void clearFaults() {
    synchronized (rules) {
      delayNanos = 0;
      blackhole = false;
      injectRules.clear();
      resetBeforeRules.clear();
      resetAfterRules.clear();
      resetCountdown = -1;
      pendingResetAll = null;
    }
    refuseConnections(false);
  }

  public long commandsForwarded() {
    return forwarded.get();
  }

  public int openConnections() {
    return connections.size();
  }

  /** Upper-case names of the commands received (forwarded or not), oldest first, last 100 000. */
  public List<String> commandLog() {
    synchronized (commandLog) {
      return List.copyOf(commandLog);
    }
  }

  @Override
  public void close() {
    closed = true;
    synchronized (listenLock) {
      stopListening();
    }
    for (Connection c : connections) {
      c.close();
    }
    // Closing the sockets unblocks every thread; the join only makes close() leave nothing behind.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    for (Thread t : threads) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0 || t == Thread.currentThread()) {
        continue;
      }
      try {
        t.join(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Rules

  private static final class Rule {
    final String command; // upper case; null matches any command
    int remaining; // -1: until cleared
    final byte[] reply; // injectError only
    final int every; // applies to every n-th matching command (1: each one)
    int seen;

    Rule(String command, int times, byte[] reply) {
      this(command, times, reply, 1);
    }

    Rule(String command, int times, byte[] reply, int every) {
      if (times < -1) {
        throw new IllegalArgumentException("times must be -1 (until cleared) or >= 0: " + times);
      }
      if (every < 1) {
        throw new IllegalArgumentException("every must be >= 1: " + every);
      }
      this.command = command == null ? null : command.toUpperCase(Locale.ROOT);
      this.remaining = times;
      this.reply = reply;
      this.every = every;
    }
  }

  private void addRule(List<Rule> list, Rule rule) {
    if (rule.remaining == 0) {
      return;
    }
    synchronized (rules) {
      list.add(rule);
    }
  }

  /** The first rule of {@code list} matching {@code name}, with one use taken off it, or null. */
  private static Rule take(List<Rule> list, String name) {
    for (Iterator<Rule> it = list.iterator(); it.hasNext(); ) {
      Rule r = it.next();
      if (r.command == null || r.command.equals(name)) {
        if (r.every > 1 && ++r.seen % r.every != 0) {
          return null; // not this one: forwarded as usual
        }
        if (r.remaining > 0 && --r.remaining == 0) {
          it.remove();
        }
        return r;
      }
    }
    return null;
  }

  private enum Action {
    DROP,
    RESET,
    INJECT,
    FORWARD
  }

  /** What to do with one command; decided atomically so that each rule use is taken once. */
  private static final class Decision {
    final Action action;
    byte[] injected;
    long delayNanos;
    boolean resetOnReply;
    Object resetAllToken;

    Decision(Action action) {
      this.action = action;
    }
  }

  private static final Decision DROP = new Decision(Action.DROP);
  private static final Decision RESET = new Decision(Action.RESET);

  private Decision decide(
      String name, AtomicBoolean connectionClosing, Supplier<byte[]> hookAnswer) {
    synchronized (rules) {
      // A connection being reset may still hand over a command it had already read; it must not
      // count as forwarded. Resets set `closing` before the pending reset-all is cleared, so one of
      // the two checks always catches it.
      if (blackhole || pendingResetAll != null || connectionClosing.get()) {
        return DROP;
      }
      if (take(resetBeforeRules, name) != null) {
        return RESET;
      }
      Rule inject = take(injectRules, name);
      if (inject != null) {
        Decision d = new Decision(Action.INJECT);
        d.injected = inject.reply;
        return d;
      }
      byte[] answer = hookAnswer == null ? null : hookAnswer.get();
      if (answer != null) {
        Decision d = new Decision(Action.INJECT);
        d.injected = answer;
        return d;
      }
      Decision d = new Decision(Action.FORWARD);
      d.delayNanos = delayNanos;
      d.resetOnReply = take(resetAfterRules, name) != null;
      forwarded.incrementAndGet();
      if (resetCountdown > 0 && --resetCountdown == 0) {
        resetCountdown = -1;
        pendingResetAll = new Object();
        d.resetAllToken = pendingResetAll;
      }
      return d;
    }
  }

  /** The resetAfterCommands reset is due (reply delivered, or its connection gone): do it once. */
  private void fireResetAll(Object token) {
    synchronized (token) {
      synchronized (rules) {
        if (pendingResetAll != token) {
          return; // cleared, re-armed, or already fired
        }
      }
      // Commands keep being swallowed until every connection is reset, so none slips through
      // between the last counted reply and the reset.
      resetAllConnections();
      synchronized (rules) {
        if (pendingResetAll == token) {
          pendingResetAll = null;
        }
      }
    }
  }

  private void logCommand(String name) {
    synchronized (commandLog) {
      if (commandLog.size() >= LOG_LIMIT) {
        commandLog.removeFirst();
      }
      commandLog.addLast(name);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Listening

  private static InetAddress loopback() {
    try {
      // Explicitly IPv4: getLoopbackAddress() may be ::1, and clients are given 127.0.0.1.
      return InetAddress.getByAddress("localhost", new byte[] {127, 0, 0, 1});
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ServerSocket bind(int port) {
    ServerSocket ss = null;
    try {
      ss = new ServerSocket();
      // Lets refuseConnections(false) take the port back while old connections on it linger.
      ss.setReuseAddress(true);
      ss.bind(new InetSocketAddress(LOOPBACK, port), 128);
      return ss;
    } catch (IOException e) {
      closeQuietly(ss);
      throw new UncheckedIOException("cannot listen on 127.0.0.1:" + port, e);
    }
  }

  private ServerSocket rebind() {
    long deadline = System.nanoTime() + REBIND_TIMEOUT_NANOS;
    while (true) {
      try {
        return bind(port);
      } catch (UncheckedIOException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        sleep(50);
      }
    }
  }

  /** One accept thread per listening socket; it ends when that socket is closed. */
  private void startAccepting() {
    ServerSocket ss = listener;
    acceptThread = spawn("accept", () -> acceptLoop(ss));
  }

  /**
   * Closes the listening socket and waits for its accept thread: while a thread is blocked in
   * accept() the JDK only pre-closes the socket, and the kernel keeps completing handshakes on it
   * until that thread has left accept(). Only then are connects really refused.
   */
  private void stopListening() {
    closeQuietly(listener);
    listener = null;
    Thread t = acceptThread;
    acceptThread = null;
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join(TimeUnit.SECONDS.toMillis(1));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void acceptLoop(ServerSocket ss) {
    while (!closed && !ss.isClosed()) {
      Socket s;
      try {
        s = ss.accept();
      } catch (IOException e) {
        if (closed || ss.isClosed()) {
          return;
        }
        try {
          Thread.sleep(50); // e.g. out of file descriptors: back off rather than spin
        } catch (InterruptedException ie) {
          return;
        }
        continue;
      }
      if (closed || ss.isClosed()) {
        // Accepted in the race with refuseConnections(true) or close(): not served.
        try {
          s.setSoLinger(true, 0);
        } catch (IOException ignored) {
          // closing anyway
        }
        closeQuietly(s);
        return;
      }
      Connection c = new Connection(connectionIds.incrementAndGet(), s);
      connections.add(c);
      if (closed) {
        c.close(); // close() may have swept the set just before the add
        return;
      }
      c.start();
    }
  }

  private Thread spawn(String name, Runnable body) {
    Thread t =
        new Thread(
            () -> {
              try {
                body.run();
              } finally {
                threads.remove(Thread.currentThread());
              }
            },
            "fault-proxy-" + port + "-" + name);
    t.setDaemon(true);
    threads.add(t);
    t.start();
    return t;
  }

  // ---------------------------------------------------------------------------------------------
  // Connections

  /** A reply owed to the client, in command order. */
  private static final class Slot {
    final byte[] injected; // an injected reply; null for a forwarded command
    final long delayNanos;
    final boolean resetOnReply;
    final Object resetAllToken;
    byte[] reply; // the server's reply, once read
    long readyAtNanos;
    List<byte[]> trailers; // out-of-band server frames read right after this reply
    boolean done; // taken off the queue by the delivering thread

    Slot(byte[] injected) {
      this.injected = injected;
      this.delayNanos = 0;
      this.resetOnReply = false;
      this.resetAllToken = null;
    }

    Slot(Decision d) {
      this.injected = null;
      this.delayNanos = d.delayNanos;
      this.resetOnReply = d.resetOnReply;
      this.resetAllToken = d.resetAllToken;
    }

    long size() {
      long n = reply == null ? 0 : reply.length;
      if (trailers != null) {
        for (byte[] t : trailers) {
          n += t.length;
        }
      }
      return n;
    }
  }

  private final class Connection {
    final int id;
    final Socket client;
    final Socket upstream = new Socket();
    final AtomicBoolean closing = new AtomicBoolean();

    final ReentrantLock lock = new ReentrantLock();
    final Condition changed = lock.newCondition();
    // All guarded by lock.
    /** Replies owed to the client in command order, injected and forwarded. */
    final ArrayDeque<Slot> fifo = new ArrayDeque<>();
    /** The forwarded slots whose server reply has not been read yet, oldest first. */
    final ArrayDeque<Slot> awaiting = new ArrayDeque<>();
    /** Frames that answer no command (sendPush, server pushes), written before the fifo head. */
    final ArrayDeque<byte[]> outOfBand = new ArrayDeque<>();
    /** The latest server reply still undelivered: later server pushes must not overtake it. */
    Slot lastServerReply;
    boolean upstreamDone;
    long queuedBytes;

    Connection(int id, Socket client) {
      this.id = id;
      this.client = client;
    }

    void start() {
      spawn("c" + id + "-client", this::clientLoop);
    }

    private void clientLoop() {
      try {
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        upstream.connect(new InetSocketAddress(LOOPBACK, upstreamPort), CONNECT_TIMEOUT_MS);
        OutputStream toServer = new BufferedOutputStream(upstream.getOutputStream(), 16 * 1024);
        spawn("c" + id + "-server", this::serverLoop);
        spawn("c" + id + "-deliver", this::deliverLoop);
        // Flushing only before blocking on the client sends a pipelined burst in one write.
        RespReader in = new RespReader(client.getInputStream(), toServer::flush);
        while (true) {
          RespReader.Command c = in.readCommand();
          if (c == null) {
            return; // the client closed
          }
          if (c.name != null && !handle(c, toServer)) {
            return;
          }
        }
      } catch (IOException | RuntimeException e) {
        // Reset, closed by the proxy, upstream down, or a client breaking the protocol: the
        // connection just ends, quietly.
      } finally {
        close();
      }
    }

    /** Applies the rules to one command; false when the connection was reset. */
    private boolean handle(RespReader.Command c, OutputStream toServer) throws IOException {
      String name = c.name.toUpperCase(Locale.ROOT);
      logCommand(name);
      CommandHook hook = commandHook;
      if (hook != null) {
        hook.onReceived(id, c.args());
      }
      Decision d = decide(name, closing, hook == null ? null : () -> hook.answer(id, c.args()));
      switch (d.action) {
        case DROP:
          return true;
        case RESET:
          reset();
          return false;
        case INJECT:
          lock.lock();
          try {
            fifo.addLast(new Slot(d.injected));
            changed.signalAll();
          } finally {
            lock.unlock();
          }
          return true;
        case FORWARD:
        default:
          boolean slotted = !PUBSUB.contains(name);
          if (slotted) {
            // Before the write, so the reply can never arrive ahead of its slot.
            Slot s = new Slot(d);
            lock.lock();
            try {
              fifo.addLast(s);
              awaiting.addLast(s);
            } finally {
              lock.unlock();
            }
          }
          toServer.write(c.bytes);
          if (!slotted && d.resetAllToken != null) {
            toServer.flush();
            fireResetAll(d.resetAllToken);
          }
          return true;
      }
    }

    private void serverLoop() {
      try {
        RespReader in = new RespReader(upstream.getInputStream(), () -> {});
        while (true) {
          RespReader.Reply r = in.readReply();
          if (r == null) {
            return;
          }
          lock.lock();
          try {
            Slot s = r.push ? null : awaiting.pollFirst();
            if (s != null) {
              s.reply = r.bytes;
              s.readyAtNanos = System.nanoTime() + s.delayNanos;
              lastServerReply = s;
            } else if (lastServerReply != null && !lastServerReply.done) {
              // A push (or a reply nothing asked for) goes out right after the server reply that
              // preceded it, keeping the server's order (an invalidation after a GET reply must
              // not overtake it), and otherwise at once, without taking any command's slot.
              if (lastServerReply.trailers == null) {
                lastServerReply.trailers = new ArrayList<>(2);
              }
              lastServerReply.trailers.add(r.bytes);
            } else {
              outOfBand.addLast(r.bytes);
            }
            queuedBytes += r.bytes.length;
            changed.signalAll();
            while (queuedBytes > MAX_QUEUED_BYTES && !closing.get()) {
              changed.await(100, TimeUnit.MILLISECONDS);
            }
          } finally {
            lock.unlock();
          }
        }
      } catch (IOException | RuntimeException e) {
        // closed or reset: the end of this connection
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        lock.lock();
        try {
          upstreamDone = true;
          changed.signalAll();
        } finally {
          lock.unlock();
        }
      }
    }

    /** The only writer to the client: out-of-band frames first, then the fifo in order. */
    private void deliverLoop() {
      List<byte[]> batch = new ArrayList<>();
      try {
        OutputStream out = new BufferedOutputStream(client.getOutputStream(), 16 * 1024);
        while (true) {
          Slot special = null; // popped, but resets instead of (or after) being delivered
          boolean serverGone = false;
          lock.lock();
          try {
            while (true) {
              if (closing.get()) {
                return;
              }
              byte[] oob = outOfBand.pollFirst();
              if (oob != null) {
                batch.add(oob);
                queuedBytes -= oob.length;
                changed.signalAll();
                continue;
              }
              Slot head = fifo.peekFirst();
              if (head != null && head.injected != null) {
                fifo.pollFirst();
                head.done = true;
                batch.add(head.injected);
                continue;
              }
              if (head != null && head.reply != null) {
                long wait = head.readyAtNanos - System.nanoTime();
                if (wait <= 0) {
                  fifo.pollFirst();
                  head.done = true;
                  queuedBytes -= head.size();
                  changed.signalAll();
                  if (head.resetOnReply || head.resetAllToken != null) {
                    special = head;
                    break;
                  }
                  batch.add(head.reply);
                  if (head.trailers != null) {
                    batch.addAll(head.trailers);
                  }
                  continue;
                }
                if (!batch.isEmpty()) {
                  break; // write what is due now, then come back to wait
                }
                changed.awaitNanos(wait);
                continue;
              }
              // Nothing deliverable: the head reply is still owed by the server, or no head.
              if (upstreamDone) {
                serverGone = true;
                break;
              }
              if (!batch.isEmpty()) {
                break;
              }
              changed.await();
            }
          } finally {
            lock.unlock();
          }
          if (!batch.isEmpty()) {
            for (byte[] b : batch) {
              out.write(b);
            }
            out.flush();
            batch.clear();
          }
          if (special != null) {
            if (special.resetOnReply) {
              reset();
            } else {
              out.write(special.reply);
              if (special.trailers != null) {
                for (byte[] t : special.trailers) {
                  out.write(t);
                }
              }
              out.flush();
            }
            if (special.resetAllToken != null) {
              fireResetAll(special.resetAllToken);
            }
            if (special.resetOnReply) {
              return;
            }
          }
          if (serverGone) {
            return; // the server closed: so does the client, after what it was owed
          }
        }
      } catch (IOException | RuntimeException e) {
        // the client went away or the connection was reset
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        close();
      }
    }

    boolean enqueueOutOfBand(byte[] frame) {
      lock.lock();
      try {
        if (closing.get()) {
          return false;
        }
        outOfBand.addLast(frame);
        queuedBytes += frame.length;
        changed.signalAll();
        return true;
      } finally {
        lock.unlock();
      }
    }

    /** TCP RST to the client: SO_LINGER 0 then close; the upstream socket is closed too. */
    void reset() {
      end(true);
    }

    void close() {
      end(false);
    }

    private void end(boolean rst) {
      if (!closing.compareAndSet(false, true)) {
        return;
      }
      if (rst) {
        try {
          client.setSoLinger(true, 0);
        } catch (IOException ignored) {
          // already closed
        }
      }
      closeQuietly(client);
      closeQuietly(upstream);
      connections.remove(this);
      Object lostToken = null;
      lock.lock();
      try {
        for (Slot s : fifo) {
          if (s.resetAllToken != null) {
            lostToken = s.resetAllToken;
          }
        }
        changed.signalAll();
      } finally {
        lock.unlock();
      }
      if (lostToken != null) {
        // The reply that was to trigger resetAfterCommands will never be delivered: reset now.
        fireResetAll(lostToken);
      }
      CommandHook hook = commandHook;
      if (hook != null) {
        hook.onClose(id);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // RESP

  static byte[] encodePush(String... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ascii(out, ">" + parts.length + "\r\n");
    for (String p : parts) {
      if (p == null) {
        ascii(out, "_\r\n");
        continue;
      }
      Long n = parseLongOrNull(p);
      if (n != null) {
        ascii(out, ":" + n + "\r\n");
      } else {
        byte[] b = p.getBytes(StandardCharsets.UTF_8);
        ascii(out, "$" + b.length + "\r\n");
        out.write(b, 0, b.length);
        ascii(out, "\r\n");
      }
    }
    return out.toByteArray();
  }

  private static Long parseLongOrNull(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static void ascii(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    out.write(b, 0, b.length);
  }

  /**
   * Frames RESP messages off a socket by their lengths (never by read boundaries), keeping each
   * message's raw bytes so it is forwarded exactly as received.
   */
  static final class RespReader {
    /** Called before each blocking read. */
    interface BeforeBlocking {
      void run() throws IOException;
    }

    /**
     * Sees the values of a server message as they are read, for callers that want them decoded
     * ({@link RespFrame}); the proxy itself only frames and passes none.
     */
    interface ValueSink {
      /** A one-line value (line = type char and text), or a string with its payload bytes. */
      void scalar(String line, byte[] payload);

      /** An aggregate starts (line = its header, e.g. {@code *3}, {@code %?} or {@code *-1}). */
      void begin(String line);

      /** The aggregate begun last is complete. */
      void end();
    }

    /**
     * A client command: its upper-casing is left to the caller; name null = nothing to run. args:
     * the name and arguments (an inline command split on spaces and tabs; quotes not interpreted).
     */
    static final class Command {
      final String name;
      final byte[] bytes;
      /** Array form: offset and length of each argument in bytes; null for an inline command. */
      private final long[] spans;
      private final List<byte[]> inlineArgs;

      Command(String name, byte[] bytes, long[] spans, List<byte[]> inlineArgs) {
        this.name = name;
        this.bytes = bytes;
        this.spans = spans;
        this.inlineArgs = inlineArgs;
      }

      /** Copied out of bytes on each call (the proxy itself never needs them). */
      List<byte[]> args() {
        if (spans == null) {
          return inlineArgs;
        }
        List<byte[]> args = new ArrayList<>(spans.length / 2);
        for (int i = 0; i < spans.length; i += 2) {
          int from = (int) spans[i];
          args.add(java.util.Arrays.copyOfRange(bytes, from, from + (int) spans[i + 1]));
        }
        return args;
      }
    }

    /** One server message, attributes included; push = a {@code >} frame, not a reply. */
    static final class Reply {
      final byte[] bytes;
      final boolean push;

      Reply(byte[] bytes, boolean push) {
        this.bytes = bytes;
        this.push = push;
      }
    }

    /** The raw bytes of the message being read. */
    private static final class Frame extends ByteArrayOutputStream {
      String text(int from) {
        return new String(buf, from, count - from, StandardCharsets.UTF_8);
      }

      byte[] from(int start) {
        return java.util.Arrays.copyOfRange(buf, start, count);
      }
    }

    private final InputStream in;
    private final BeforeBlocking beforeBlocking;
    private final byte[] buf = new byte[16 * 1024];
    private int pos;
    private int limit;
    private final Frame frame = new Frame();
    private final ValueSink sink; // null: frame only

    RespReader(InputStream in, BeforeBlocking beforeBlocking) {
      this(in, beforeBlocking, null);
    }

    RespReader(InputStream in, BeforeBlocking beforeBlocking, ValueSink sink) {
      this.in = in;
      this.beforeBlocking = beforeBlocking;
      this.sink = sink;
    }

    /** True when every byte read so far belongs to complete messages and the input has ended. */
    boolean atEnd() throws IOException {
      return !available();
    }

    /** The next command, or null when the peer closed between messages. */
    Command readCommand() throws IOException {
      frame.reset();
      if (!available()) {
        return null;
      }
      String name = null;
      long[] spans = null;
      List<byte[]> inlineArgs = new ArrayList<>();
      if (buf[pos] == '*') {
        long n = length(readLine(MAX_LINE), MAX_ARGS);
        // grown as arguments arrive: a header alone must not allocate for a million
        spans = new long[(int) Math.min(Math.max(0, n), 16) * 2];
        for (long i = 0; i < n; i++) {
          String header = readLine(MAX_LINE);
          if (header.isEmpty() || header.charAt(0) != '$') {
            throw new ProtocolException("expected a bulk string in a command, got " + header);
          }
          long len = length(header, MAX_BULK);
          if (len < 0) {
            throw new ProtocolException("null bulk string in a command");
          }
          int start = frame.size();
          copy(len);
          if (i == 0) {
            name = frame.text(start);
          }
          if (spans.length < (i + 1) * 2) {
            spans = java.util.Arrays.copyOf(spans, (int) Math.min(n * 2, spans.length * 2L));
          }
          spans[(int) i * 2] = start;
          spans[(int) i * 2 + 1] = len;
          crlf();
        }
        // *0 and *-1 carry no command; redis ignores them and so does the proxy
      } else {
        String line = readLine(MAX_INLINE).trim();
        if (!line.isEmpty()) {
          for (String word : line.split("[ \t]+")) {
            inlineArgs.add(word.getBytes(StandardCharsets.UTF_8));
          }
          name = line.split("[ \t]+", 2)[0];
        } // an empty line: redis ignores it without a reply
      }
      return new Command(name, frame.toByteArray(), spans, spans == null ? inlineArgs : null);
    }

    /** The next server message, or null when the server closed between messages. */
    Reply readReply() throws IOException {
      frame.reset();
      if (!available()) {
        return null;
      }
      boolean push = value(0);
      return new Reply(frame.toByteArray(), push);
    }

    /** Reads one value (with any attribute before it); true when it is a push frame. */
    private boolean value(int depth) throws IOException {
      if (depth > MAX_DEPTH) {
        throw new ProtocolException("RESP nesting deeper than " + MAX_DEPTH);
      }
      String line = readLine(MAX_LINE);
      if (line.isEmpty()) {
        throw new ProtocolException("empty RESP line");
      }
      char type = line.charAt(0);
      switch (type) {
        case '+': // simple string
        case '-': // simple error
        case ':': // integer
        case '_': // null
        case ',': // double
        case '#': // boolean
        case '(': // big number
          if (sink != null) {
            sink.scalar(line, null);
          }
          return false;
        case '$': // bulk string
        case '!': // bulk error
        case '=': // verbatim string
          if (line.equals(type + "?")) {
            byte[] whole = streamedString();
            if (sink != null) {
              sink.scalar(type + "?", whole);
            }
            return false;
          }
          long len = length(line, MAX_BULK);
          byte[] payload = null;
          if (len >= 0) { // $-1 is the RESP2 null
            int start = frame.size();
            copy(len);
            payload = sink == null ? null : frame.from(start);
            crlf();
          }
          if (sink != null) {
            sink.scalar(line, payload);
          }
          return false;
        case '*': // array
        case '~': // set
        case '>': // push
        case '%': // map: key and value per entry
        case '|': // attribute: a map that belongs to the value after it
          int perEntry = type == '%' || type == '|' ? 2 : 1;
          if (sink != null) {
            sink.begin(line);
          }
          if (line.equals(type + "?")) {
            while (peek() != '.') {
              value(depth + 1);
            }
            readLine(MAX_LINE); // the "." terminator
          } else {
            long n = length(line, Integer.MAX_VALUE);
            for (long i = 0; i < n * perEntry; i++) { // *-1 is the RESP2 null array
              value(depth + 1);
            }
          }
          if (sink != null) {
            sink.end();
          }
          if (type == '|') {
            return value(depth + 1);
          }
          return type == '>';
        default:
          throw new ProtocolException("unknown RESP type in " + line);
      }
    }

    /** {@code $?} followed by {@code ;len} chunks up to {@code ;0}; the payload when decoding. */
    private byte[] streamedString() throws IOException {
      ByteArrayOutputStream whole = sink == null ? null : new ByteArrayOutputStream();
      while (true) {
        String chunk = readLine(MAX_LINE);
        if (chunk.isEmpty() || chunk.charAt(0) != ';') {
          throw new ProtocolException("expected a string chunk, got " + chunk);
        }
        long len = length(chunk, MAX_BULK);
        if (len <= 0) {
          return whole == null ? null : whole.toByteArray();
        }
        int start = frame.size();
        copy(len);
        if (whole != null) {
          whole.writeBytes(frame.from(start));
        }
        crlf();
      }
    }

    /** The number after the type character. */
    private static long length(String line, long max) throws ProtocolException {
      long n;
      try {
        n = Long.parseLong(line.substring(1));
      } catch (NumberFormatException e) {
        throw new ProtocolException("bad length in " + line);
      }
      if (n > max || n < -1) {
        throw new ProtocolException("length out of range in " + line);
      }
      return n;
    }

    /** True when there is a byte to read, false on EOF; blocks at most one read. */
    private boolean available() throws IOException {
      if (pos < limit) {
        return true;
      }
      beforeBlocking.run();
      int n = in.read(buf, 0, buf.length);
      if (n < 0) {
        return false;
      }
      pos = 0;
      limit = n;
      return true;
    }

    private void need() throws IOException {
      if (!available()) {
        throw new EOFException("connection closed inside a RESP message");
      }
    }

    private byte peek() throws IOException {
      need();
      return buf[pos];
    }

    /** A line up to LF (CR LF in RESP; inline commands may end in LF alone), without the end. */
    private String readLine(int max) throws IOException {
      StringBuilder sb = new StringBuilder();
      while (true) {
        need();
        int start = pos;
        while (pos < limit && buf[pos] != '\n') {
          pos++;
        }
        boolean end = pos < limit;
        if (end) {
          pos++;
        }
        frame.write(buf, start, pos - start);
        for (int i = start; i < pos; i++) {
          sb.append((char) (buf[i] & 0xff));
        }
        if (end) {
          break;
        }
        if (sb.length() > max) {
          throw new ProtocolException("line longer than " + max + " bytes");
        }
      }
      int len = sb.length() - 1; // drop LF
      if (len > 0 && sb.charAt(len - 1) == '\r') {
        len--;
      }
      return sb.substring(0, len);
    }

    /** Copies exactly n payload bytes into the frame, across as many reads as it takes. */
    private void copy(long n) throws IOException {
      while (n > 0) {
        need();
        int k = (int) Math.min(n, limit - pos);
        frame.write(buf, pos, k);
        pos += k;
        n -= k;
      }
    }

    private void crlf() throws IOException {
      need();
      byte cr = buf[pos++];
      need();
      byte lf = buf[pos++];
      frame.write(cr);
      frame.write(lf);
      if (cr != '\r' || lf != '\n') {
        throw new ProtocolException("expected CR LF after a bulk payload");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static void closeQuietly(Closeable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (IOException ignored) {
      // closing is best effort
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
