package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.maintenance.MaintenanceNotice;
import dev.redisresilience.agent.maintenance.MaintenancePolicy;
import dev.redisresilience.agent.policy.ServerState;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import redis.clients.jedis.HostAndPort;

/**
 * The endpoints a MOVING notification moved away from, shared by every Jedis connection of the
 * JVM: endpoint A, where to (B, or the same endpoint after time/2 for a null endpoint), since
 * when and until when. {@code DefaultJedisSocketFactory} asks it where a socket for A goes (so a
 * pool refills against B, and a connection reconnected in place lands on B); a connection to A
 * made before the notification asks it whether it must hand off before its next command.
 *
 * <p>Bounded: at most {@link #MAX} endpoints, each for the maintenance max window at most. The
 * per-command cost when nothing moved is one volatile read ({@link #pendingFor}).
 */
public final class JedisMoves {
  /** Endpoints moved at once at most (the oldest is dropped); one is the common case. */
  static final int MAX = 64;

  private static final Move[] NONE = new Move[0];
  /** Copy-on-write; replaced under the class lock, read without one. */
  private static volatile Move[] moves = NONE;

  private JedisMoves() {}

  /** One endpoint moving: connections to {@code from} made before {@code at} hand off. */
  static final class Move {
    final String fromHost;
    final int fromPort;
    /** The new endpoint; null: the same endpoint, reconnected from {@link #notBefore} on. */
    final HostAndPort to;
    final long seq;
    /** System.nanoTime() of the (first) notification. */
    final long at;
    /** Connections hand off from then on (at, or at + time/2 for a null endpoint). */
    final long notBefore;
    /** The redirect ends then (the maintenance max window). */
    final long until;

    Move(String fromHost, int fromPort, HostAndPort to, long seq, long at, long notBefore, long until) {
      this.fromHost = fromHost;
      this.fromPort = fromPort;
      this.to = to;
      this.seq = seq;
      this.at = at;
      this.notBefore = notBefore;
      this.until = until;
    }

    boolean from(String host, int port) {
      return port == fromPort && fromHost.equals(host);
    }

    boolean sameAs(Move o) {
      return o.seq == seq && (to == null ? o.to == null : o.to != null && to.equals(o.to));
    }
  }

  /**
   * A MOVING arrived on a connection to {@code from}: from now on sockets for it go to the new
   * endpoint, and its older connections hand off. A repeat of the same notification (every
   * connection to the endpoint receives it) keeps the first one's time.
   */
  static void moving(ServerState from, MaintenanceNotice n, MaintenancePolicy p, long now) {
    if (from == null || from.address() == null) {
      return;
    }
    HostAndPort to = n.host() == null ? null : new HostAndPort(n.host(), n.port());
    if (to != null && to.getPort() == from.port() && to.getHost().equals(from.address())) {
      to = null; // moved to itself: reconnect in place
    }
    long wait = to != null || n.timeSeconds() <= 0 ? 0 : n.timeSeconds() * 1_000_000_000L / 2;
    long until = now + Math.max(p.maxWindowNanos(), wait + p.graceNanos());
    Move m = new Move(from.address(), from.port(), to, n.seq(), now, now + wait, until);
    synchronized (JedisMoves.class) {
      ArrayList<Move> next = new ArrayList<>();
      for (Move o : moves) {
        if (now - o.until >= 0) {
          continue; // expired
        }
        if (o.from(m.fromHost, m.fromPort)) {
          if (o.sameAs(m)) {
            return; // the same notification again
          }
          continue; // replaced by the newer one
        }
        if (to != null && o.from(to.getHost(), to.getPort())) {
          continue; // B -> A after A -> B: no loop
        }
        if (o.to != null && o.to.getPort() == m.fromPort && o.to.getHost().equals(m.fromHost)) {
          // A -> B, now B -> C (or B in place): what was going to B follows to where B goes
          HostAndPort onward = to != null ? to : o.to;
          next.add(new Move(o.fromHost, o.fromPort, onward, o.seq, o.at, o.notBefore,
              m.until - o.until > 0 ? m.until : o.until));
          continue;
        }
        next.add(o);
      }
      next.add(m);
      while (next.size() > MAX) {
        next.remove(0); // oldest first
      }
      moves = next.toArray(NONE);
    }
  }

  /** A hand-off to {@code m}'s endpoint failed: sockets for its old endpoint go there again. */
  static void giveUp(Move m) {
    synchronized (JedisMoves.class) {
      Move[] old = moves;
      int k = 0;
      Move[] next = new Move[old.length];
      for (Move o : old) {
        if (o != m) {
          next[k++] = o;
        }
      }
      if (k != old.length) {
        Move[] trimmed = new Move[k];
        System.arraycopy(next, 0, trimmed, 0, k);
        moves = trimmed;
      }
    }
  }

  /** Forgets every move (tests). */
  static void clear() {
    synchronized (JedisMoves.class) {
      moves = NONE;
    }
  }

  /** True while some endpoint is moved (connects only; not per command). */
  static boolean pending() {
    return moves.length != 0;
  }

  /**
   * Per command: the move the connection must follow before its next command, or null. One
   * volatile read when nothing moved.
   */
  static Move pendingFor(JedisConnState s) {
    Move[] m = moves;
    if (m.length == 0 || !s.hasServer()) {
      return null;
    }
    return find(m, s);
  }

  private static Move find(Move[] all, JedisConnState s) {
    ServerState server = s.serverState();
    long now = System.nanoTime();
    for (int i = all.length - 1; i >= 0; i--) {
      Move m = all[i];
      if (m.from(server.address(), server.port())) {
        boolean older = s.connectedNanos != 0 && s.connectedNanos - m.at < 0;
        return older && now - m.notBefore >= 0 && now - m.until < 0 ? m : null;
      }
    }
    return null;
  }

  /**
   * {@code getSocketHostAndPort} exit: where a socket of a factory configured for {@code
   * configured} goes; {@code chosen} (the configured one, or its HostAndPortMapper's) unless the
   * configured endpoint moved.
   */
  public static HostAndPort socketAddress(HostAndPort configured, HostAndPort chosen) {
    Move[] all = moves;
    if (all.length == 0 || configured == null) {
      return chosen;
    }
    Move m = movedTo(all, configured.getHost(), configured.getPort());
    return m != null ? m.to : chosen;
  }

  private static Move movedTo(Move[] all, String host, int port) {
    long now = System.nanoTime();
    for (int i = all.length - 1; i >= 0; i--) {
      Move m = all[i];
      if (m.from(host, port)) {
        return m.to != null && now - m.until < 0 ? m : null;
      }
    }
    return null;
  }

  /**
   * The server a new socket of a factory configured for {@code configured} really reached: the
   * moved-to endpoint when the socket went there, else the configured one; null: unknown.
   */
  static HostAndPort reached(HostAndPort configured, InetSocketAddress remote) {
    Move[] all = moves;
    if (all.length == 0 || configured == null || remote == null) {
      return null;
    }
    Move m = movedTo(all, configured.getHost(), configured.getPort());
    if (m == null || m.to.getPort() != remote.getPort()) {
      return null;
    }
    String host = m.to.getHost();
    boolean same =
        host.equals(remote.getHostString())
            || (remote.getAddress() != null && host.equals(remote.getAddress().getHostAddress()));
    return same ? m.to : null;
  }
}
