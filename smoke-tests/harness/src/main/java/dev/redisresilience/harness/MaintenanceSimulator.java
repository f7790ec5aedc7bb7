package dev.redisresilience.harness;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A stand-in for a Redis Software endpoint that announces planned maintenance: two real {@code
 * redis-server}s, each behind a {@link FaultProxy} on its own loopback port. Clients connect to
 * the {@link Endpoint#PRIMARY} port; {@link Endpoint#TARGET} is the other server, where a MOVING
 * notification ({@link #targetAddress()}) sends them.
 *
 * <p>On both ports the simulator answers the Smart client handoff opt-in itself, in that command's
 * place in the reply order: {@code CLIENT MAINT_NOTIFICATIONS ON [moving-endpoint-type <type>]}
 * and {@code OFF} (any case, RESP array or inline) get {@code +OK}, a bad type or syntax an error,
 * and it records per client connection whether and how it opted in; with {@link
 * #optInSupported(boolean) optInSupported(false)} the command reaches redis-server, which rejects
 * it as an OSS server does. Everything else passes through unchanged, and every FaultProxy fault
 * stays available through {@link #proxy(Endpoint)}.
 *
 * <p>Frames ({@link MaintenanceNotification}, any {@link RespFrame}, or raw bytes) go to one, all,
 * or the opted-in connections; the proxy writes them only between complete replies.
 */
public final class MaintenanceSimulator implements AutoCloseable {
  /** Which of the two servers. */
  public enum Endpoint {
    PRIMARY,
    TARGET
  }

  /** The {@code moving-endpoint-type} values Redis Software accepts. */
  public static final Set<String> ENDPOINT_TYPES =
      Set.of("internal-ip", "internal-fqdn", "external-ip", "external-fqdn", "none");

  private static final int COMMANDS_KEPT = 10_000;
  private static final int ARG_KEPT = 200;
  private static final byte[] OK = "+OK\r\n".getBytes(StandardCharsets.US_ASCII);

  private final RedisServer primaryServer;
  private final RedisServer targetServer;
  private final boolean ownsServers;
  private final FaultProxy primary;
  private final FaultProxy target;
  private final Map<Endpoint, Map<Integer, ClientRecord>> records = new ConcurrentHashMap<>();
  private volatile boolean optInSupported = true;
  private final ScheduledExecutorService timer;
  private final Map<Endpoint, ScheduledFuture<?>> slowEnds = new ConcurrentHashMap<>();
  private final Map<Endpoint, Object> slowTokens = new ConcurrentHashMap<>();

  private MaintenanceSimulator(RedisServer primaryServer, RedisServer targetServer, boolean owns) {
    this.primaryServer = primaryServer;
    this.targetServer = targetServer;
    this.ownsServers = owns;
    this.primary = FaultProxy.start(primaryServer.port());
    this.target = FaultProxy.start(targetServer.port());
    for (Endpoint e : Endpoint.values()) {
      records.put(e, new ConcurrentHashMap<>());
      proxy(e).commandHook(new Hook(e));
    }
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "maintenance-simulator-timer-" + primary.port());
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts two fresh redis-servers and the two proxies; {@link #close()} stops all four. */
  public static MaintenanceSimulator start() {
    RedisServer p = RedisServer.start();
    RedisServer t;
    try {
      t = RedisServer.start();
    } catch (RuntimeException e) {
      p.close();
      throw e;
    }
    return new MaintenanceSimulator(p, t, true);
  }

  /** Proxies in front of servers the caller owns (and stops itself); they must be two. */
  public static MaintenanceSimulator start(RedisServer primary, RedisServer target) {
    if (primary.port() == target.port()) {
      throw new IllegalArgumentException("primary and target must be two servers");
    }
    return new MaintenanceSimulator(primary, target, false);
  }

  // --- endpoints ---------------------------------------------------------------------------------

  /** The port clients connect to. */
  public int primaryPort() {
    return primary.port();
  }

  public int targetPort() {
    return target.port();
  }

  /** {@code 127.0.0.1:<target port>}, the endpoint a MOVING notification names. */
  public String targetAddress() {
    return "127.0.0.1:" + target.port();
  }

  public FaultProxy proxy(Endpoint e) {
    return e == Endpoint.PRIMARY ? primary : target;
  }

  /** The redis-server behind an endpoint, e.g. to read a counter without any proxy between. */
  public RedisServer server(Endpoint e) {
    return e == Endpoint.PRIMARY ? primaryServer : targetServer;
  }

  /**
   * True (the default): the simulator answers the opt-in. False: the opt-in goes to redis-server,
   * which answers {@code -ERR unknown subcommand} like a server without Smart client handoffs.
   */
  public void optInSupported(boolean on) {
    optInSupported = on;
  }

  // --- clients -----------------------------------------------------------------------------------

  /** One client connection (from its first command on), as the simulator saw it. */
  public static final class ClientRecord {
    private final Endpoint endpoint;
    private final int connectionId;
    private final ArrayDeque<List<String>> commands = new ArrayDeque<>(); // guarded by this
    private boolean optedIn;
    private String endpointType;
    private int optInCommands;
    private int requestedProtocol = 2;
    private boolean closed;

    ClientRecord(Endpoint endpoint, int connectionId) {
      this.endpoint = endpoint;
      this.connectionId = connectionId;
    }

    public Endpoint endpoint() {
      return endpoint;
    }

    /** The {@link FaultProxy} connection id on its endpoint. */
    public int connectionId() {
      return connectionId;
    }

    /** After the latest opt-in command: ON answered +OK and no OFF since. */
    public synchronized boolean optedIn() {
      return optedIn;
    }

    /** The {@code moving-endpoint-type} of the latest accepted ON (lower case), or null. */
    public synchronized String endpointType() {
      return endpointType;
    }

    /** How many {@code CLIENT MAINT_NOTIFICATIONS} commands this connection sent (any answer). */
    public synchronized int optInCommands() {
      return optInCommands;
    }

    /** 3 after a {@code HELLO 3}, 2 before any HELLO or after {@code HELLO 2}. */
    public synchronized int requestedProtocol() {
      return requestedProtocol;
    }

    public synchronized boolean closed() {
      return closed;
    }

    /**
     * The commands in order, each as its arguments (names upper case; AUTH and HELLO AUTH
     * credentials replaced by {@code ***}; arguments over 200 bytes cut, with their length); the
     * last 10 000. Includes commands a fault rule dropped or reset.
     */
    public synchronized List<List<String>> commands() {
      return List.copyOf(commands);
    }

    /** The upper-case command names, in order. */
    public synchronized List<String> commandNames() {
      List<String> names = new ArrayList<>(commands.size());
      for (List<String> c : commands) {
        names.add(c.get(0));
      }
      return names;
    }

    synchronized void command(List<String> args) {
      if (commands.size() >= COMMANDS_KEPT) {
        commands.removeFirst();
      }
      commands.addLast(args);
    }

    @Override
    public synchronized String toString() {
      return endpoint + "#" + connectionId + (closed ? " closed" : "") + " resp"
          + requestedProtocol + " optedIn=" + optedIn + " type=" + endpointType + " "
          + commandNames();
    }
  }

  /** Every client connection seen on both endpoints, primary first, then by connection id. */
  public List<ClientRecord> clients() {
    List<ClientRecord> all = new ArrayList<>(clients(Endpoint.PRIMARY));
    all.addAll(clients(Endpoint.TARGET));
    return all;
  }

  public List<ClientRecord> clients(Endpoint e) {
    List<ClientRecord> list = new ArrayList<>(records.get(e).values());
    list.sort(Comparator.comparingInt(ClientRecord::connectionId));
    return list;
  }

  /**
   * Waits (polling, at most {@code timeout}) for a connection matching {@code condition}, e.g.
   * {@code c -> c.optedIn()}; IllegalStateException when none shows up in time.
   */
  public ClientRecord awaitClient(Predicate<ClientRecord> condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (ClientRecord c : clients()) {
        if (condition.test(c)) {
          return c;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "no client connection matched within " + timeout + "; seen: " + clients());
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for a client connection", e);
      }
    }
  }

  // --- notifications -----------------------------------------------------------------------------

  /** Sends a frame to one connection; false when that connection is no longer open. */
  public boolean push(ClientRecord to, RespFrame frame) {
    return pushRaw(to, frame.encode());
  }

  /** Sends bytes as they are (e.g. {@link MaintenanceNotification#brokenPushBytes()}). */
  public boolean pushRaw(ClientRecord to, byte[] bytes) {
    return proxy(to.endpoint()).sendRaw(to.connectionId(), bytes);
  }

  /** To every open connection on the endpoint (opted in or not); how many it was queued for. */
  public int pushToAll(Endpoint e, RespFrame frame) {
    return pushRawToAll(e, frame.encode());
  }

  public int pushRawToAll(Endpoint e, byte[] bytes) {
    int n = 0;
    for (int id : proxy(e).openConnectionIds()) {
      if (proxy(e).sendRaw(id, bytes)) {
        n++;
      }
    }
    return n;
  }

  /** To the open connections on the endpoint that are opted in now; how many. */
  public int pushToOptedIn(Endpoint e, RespFrame frame) {
    byte[] bytes = frame.encode();
    int n = 0;
    for (ClientRecord c : clients(e)) {
      if (c.optedIn() && !c.closed() && pushRaw(c, bytes)) {
        n++;
      }
    }
    return n;
  }

  // --- slow window -------------------------------------------------------------------------------

  /** {@link #slowReplies(Endpoint, Duration, Duration)} on the primary. */
  public void slowReplies(Duration delay, Duration window) {
    slowReplies(Endpoint.PRIMARY, delay, window);
  }

  /**
   * Holds back each reply to a command received in the next {@code window} by {@code delay}
   * (FaultProxy's reply delay), then stops; a new call replaces that endpoint's window.
   */
  public synchronized void slowReplies(Endpoint e, Duration delay, Duration window) {
    Objects.requireNonNull(window, "window");
    if (window.isNegative() || window.isZero()) {
      throw new IllegalArgumentException("the window must be positive: " + window);
    }
    cancelSlowEnd(e);
    proxy(e).delayReplies(delay);
    Object token = new Object();
    slowTokens.put(e, token);
    slowEnds.put(
        e, timer.schedule(() -> endWindow(e, token), window.toNanos(), TimeUnit.NANOSECONDS));
  }

  /** The timer's end of a window, unless a later call replaced or ended it. */
  private synchronized void endWindow(Endpoint e, Object token) {
    if (slowTokens.get(e) == token) {
      stopSlowReplies(e);
    }
  }

  /** Ends the endpoint's slow window now (replies already held keep their delay). */
  public synchronized void stopSlowReplies(Endpoint e) {
    cancelSlowEnd(e);
    proxy(e).delayReplies(Duration.ZERO);
  }

  private void cancelSlowEnd(Endpoint e) {
    slowTokens.remove(e);
    ScheduledFuture<?> f = slowEnds.remove(e);
    if (f != null) {
      f.cancel(false);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    primary.close();
    target.close();
    if (ownsServers) {
      primaryServer.close();
      targetServer.close();
    }
  }

  // --- the opt-in --------------------------------------------------------------------------------

  private final class Hook implements FaultProxy.CommandHook {
    private final Endpoint endpoint;

    Hook(Endpoint endpoint) {
      this.endpoint = endpoint;
    }

    private ClientRecord record(int connectionId) {
      return records.get(endpoint).computeIfAbsent(connectionId, id -> new ClientRecord(endpoint, id));
    }

    @Override
    public void onReceived(int connectionId, List<byte[]> raw) {
      ClientRecord rec = record(connectionId);
      List<String> args = recorded(raw);
      rec.command(args);
      String name = args.get(0);
      if (name.equals("HELLO") && args.size() > 1) {
        if (args.get(1).equals("2") || args.get(1).equals("3")) {
          synchronized (rec) {
            rec.requestedProtocol = Integer.parseInt(args.get(1));
          }
        }
      } else if (isOptIn(name, args)) {
        synchronized (rec) {
          rec.optInCommands++;
        }
      }
    }

    /** Only for commands no FaultProxy rule dropped, reset or answered. */
    @Override
    public byte[] answer(int connectionId, List<byte[]> raw) {
      if (!optInSupported || raw.size() < 2) {
        return null; // without support redis-server answers, with its error
      }
      List<String> args = new ArrayList<>(raw.size());
      for (byte[] a : raw) {
        args.add(new String(a, StandardCharsets.UTF_8));
      }
      if (!isOptIn(args.get(0).toUpperCase(Locale.ROOT), args)) {
        return null;
      }
      return optIn(record(connectionId), args);
    }

    @Override
    public void onClose(int connectionId) {
      ClientRecord rec = records.get(endpoint).get(connectionId);
      if (rec != null) {
        synchronized (rec) {
          rec.closed = true;
        }
      }
    }
  }

  private static boolean isOptIn(String upperName, List<String> args) {
    return upperName.equals("CLIENT")
        && args.size() >= 2
        && args.get(1).equalsIgnoreCase("MAINT_NOTIFICATIONS");
  }

  /** {@code CLIENT MAINT_NOTIFICATIONS ON [moving-endpoint-type <type>]} or {@code OFF}. */
  private static byte[] optIn(ClientRecord rec, List<String> args) {
    String mode = args.size() > 2 ? args.get(2).toUpperCase(Locale.ROOT) : "";
    if (mode.equals("OFF") && args.size() == 3) {
      synchronized (rec) {
        rec.optedIn = false;
        rec.endpointType = null;
      }
      return OK;
    }
    if (!mode.equals("ON") || (args.size() != 3 && args.size() != 5)) {
      return error("ERR syntax error in CLIENT MAINT_NOTIFICATIONS: " + String.join(" ", args));
    }
    String type = null;
    if (args.size() == 5) {
      if (!args.get(3).equalsIgnoreCase("moving-endpoint-type")) {
        return error("ERR unknown CLIENT MAINT_NOTIFICATIONS option: " + args.get(3));
      }
      type = args.get(4).toLowerCase(Locale.ROOT);
      if (!ENDPOINT_TYPES.contains(type)) {
        return error("ERR invalid moving-endpoint-type: " + args.get(4));
      }
    }
    synchronized (rec) {
      rec.optedIn = true;
      rec.endpointType = type;
    }
    return OK;
  }

  private static byte[] error(String line) {
    return RespFrame.error(line.replace('\r', ' ').replace('\n', ' ')).encode();
  }

  /** As kept in a record: name upper case, credentials masked, long values cut. */
  private static List<String> recorded(List<byte[]> raw) {
    List<String> out = new ArrayList<>(raw.size());
    for (byte[] a : raw) {
      out.add(
          a.length <= ARG_KEPT
              ? new String(a, StandardCharsets.UTF_8)
              : new String(a, 0, ARG_KEPT, StandardCharsets.UTF_8) + "...(" + a.length + " bytes)");
    }
    String name = out.get(0).toUpperCase(Locale.ROOT);
    out.set(0, name);
    if (name.equals("AUTH")) {
      for (int i = 1; i < out.size(); i++) {
        out.set(i, "***");
      }
    } else if (name.equals("HELLO")) {
      for (int i = 1; i < out.size() - 2; i++) {
        if (out.get(i).equalsIgnoreCase("AUTH")) {
          out.set(i + 1, "***");
          out.set(i + 2, "***");
        }
      }
    }
    return List.copyOf(out);
  }
}
