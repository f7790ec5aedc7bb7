package dev.redisresilience.agent.instrumentation.jedis;

import dev.redisresilience.agent.bootstrap.StateHolder;
import dev.redisresilience.agent.maintenance.MaintenanceNotice;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import redis.clients.jedis.Connection;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.util.RedisInputStream;

/**
 * RESP3 push frames on Jedis 5.x-8.0.x, read before Jedis' reply parser sees them: no released
 * Jedis knows the maintenance notifications, and 5.0-7.x return any push as the reply of the
 * command that reads next (a desync). Before each read of a RESP3 connection the next byte is
 * peeked: a push of a maintenance type is consumed and handled by the agent, pub/sub and
 * client-side-caching pushes are handed to Jedis as they are, any other push is consumed and
 * counted (it must never become a command's reply).
 */
public final class JedisPushes {
  private static final byte PUSH = '>';
  /** Pushes the agent consumes before one reply at most (a flood must not stall the read forever). */
  static final int MAX_PUSHES_PER_READ = 1024;
  /** Jedis' own push types: pub/sub (RESP3 delivers messages as pushes) and CSC invalidation. */
  static final Set<String> CLIENT_TYPES =
      new HashSet<>(
          Arrays.asList(
              "message", "pmessage", "smessage", "subscribe", "psubscribe", "ssubscribe", "unsubscribe",
              "punsubscribe", "sunsubscribe", "pong", "invalidate"));

  /** RedisInputStream's buffer and its private fill (5.x-7.x have no peek). */
  private static final ClassValue<Peeker> PEEKERS =
      new ClassValue<Peeker>() {
        @Override
        protected Peeker computeValue(Class<?> type) {
          return Peeker.of(type);
        }
      };

  private JedisPushes() {}

  /**
   * Read enter: consumes the maintenance and unknown pushes waiting before the reply. Returns null
   * to let Jedis read as usual, a push frame of Jedis' own to return as the read's result, or the
   * failure to throw (the connection is marked broken then).
   */
  public static Object beforeRead(Object connection, Object in, Object socket) {
    if (!(connection instanceof StateHolder) || !(in instanceof RedisInputStream)) {
      return null;
    }
    JedisConnState s = JedisConnections.state(connection);
    if (!s.resp3) {
      return null; // RESP2 (every Jedis 4.x connection): no push frames
    }
    RedisInputStream is = (RedisInputStream) in;
    Peeker peeker = PEEKERS.get(is.getClass());
    if (peeker == null) {
      return null;
    }
    try {
      JedisMaintenance.adjustTimeout(s, socket);
      for (int i = 0; i < MAX_PUSHES_PER_READ; i++) {
        if (peeker.next(is) != PUSH) {
          return null;
        }
        String buffered = peeker.pushType(is);
        if (buffered != null && isClientType(buffered)) {
          return null; // Jedis' own (pub/sub, CSC invalidation): Jedis reads it as without the agent
        }
        Object frame = Protocol.read(is); // the whole push; its elements decoded as Jedis does
        List<?> list = frame instanceof List ? (List<?>) frame : null;
        String type = typeName(list);
        if (isClientType(type)) {
          return frame; // its header was not all buffered: handed back as Jedis' read returns it
        }
        if (MaintenanceNotice.typeOf(list) != null) {
          JedisMaintenance.notice(s, list);
          JedisMaintenance.adjustTimeout(s, socket); // the read that follows may be in the window
        } else {
          JedisMaintenance.unknown(s, type);
        }
      }
      return null;
    } catch (RuntimeException e) {
      // the socket failed (or timed out) while the agent read: the read's own outcome
      ((Connection) connection).setBroken();
      return e;
    }
  }

  static boolean isClientType(String type) {
    return type != null && CLIENT_TYPES.contains(type.toLowerCase(Locale.ROOT));
  }

  static String typeName(List<?> frame) {
    if (frame == null || frame.isEmpty()) {
      return null;
    }
    Object first = frame.get(0);
    if (first instanceof byte[]) {
      return new String((byte[]) first, StandardCharsets.UTF_8);
    }
    return first instanceof String ? (String) first : null;
  }

  /** Peeks the next byte of a RedisInputStream, filling its buffer (blocking) when it is empty. */
  static final class Peeker {
    private final Field buf;
    private final Field count;
    private final Field limit;
    private final Method fill;

    private Peeker(Field buf, Field count, Field limit, Method fill) {
      this.buf = buf;
      this.count = count;
      this.limit = limit;
      this.fill = fill;
    }

    static Peeker of(Class<?> type) {
      try {
        Class<?> c = RedisInputStream.class;
        Field buf = c.getDeclaredField("buf");
        Field count = c.getDeclaredField("count");
        Field limit = c.getDeclaredField("limit");
        Method fill = c.getDeclaredMethod("ensureFill");
        buf.setAccessible(true);
        count.setAccessible(true);
        limit.setAccessible(true);
        fill.setAccessible(true);
        return new Peeker(buf, count, limit, fill);
      } catch (ReflectiveOperationException | RuntimeException e) {
        return null; // another layout: pushes are left to Jedis
      }
    }

    byte next(RedisInputStream is) {
      try {
        if (count.getInt(is) >= limit.getInt(is)) {
          fill.invoke(is);
        }
        return ((byte[]) buf.get(is))[count.getInt(is)];
      } catch (InvocationTargetException e) {
        throw unwrap(e);
      } catch (IllegalAccessException e) {
        throw new IllegalStateException(e);
      }
    }

    /**
     * The type name of the push at the head of the buffer ({@code >n, $len, name} or {@code +name}),
     * without consuming anything; null when its header is not all in the buffer yet.
     */
    String pushType(RedisInputStream is) {
      try {
        byte[] b = (byte[]) buf.get(is);
        int end = limit.getInt(is);
        int p = count.getInt(is) + 1; // after '>'
        while (p < end && b[p] != '\r') {
          p++;
        }
        p += 2; // CRLF
        if (p >= end) {
          return null;
        }
        byte kind = b[p++];
        if (kind == '+') {
          int start = p;
          while (p < end && b[p] != '\r') {
            p++;
          }
          return p < end ? new String(b, start, p - start, StandardCharsets.UTF_8) : null;
        }
        if (kind != '$') {
          return null;
        }
        int len = 0;
        while (p < end && b[p] >= '0' && b[p] <= '9' && len < 1 << 20) {
          len = len * 10 + (b[p++] - '0');
        }
        p += 2;
        return p + len <= end ? new String(b, p, len, StandardCharsets.UTF_8) : null;
      } catch (IllegalAccessException e) {
        return null;
      }
    }

    private static RuntimeException unwrap(InvocationTargetException e) {
      Throwable t = e.getCause();
      return t instanceof RuntimeException ? (RuntimeException) t : new IllegalStateException(t);
    }
  }
}
