package dev.redisresilience.agent.maintenance;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * One Smart Client Handoff push notification, parsed from the decoded elements of a RESP3 push
 * frame (any client's decoding: {@code String}, {@code byte[]}, {@code ByteBuffer}, numbers,
 * {@code null}). Wire format (no public spec; the parsers of redis-py, go-redis, node-redis,
 * Lettuce 7 and Jedis' SCH branch agree):
 *
 * <pre>
 * &gt;4 MOVING       :seq :time_s ($host:port | _null)
 * &gt;4 MIGRATING    :seq :time_s $shards
 * &gt;3 MIGRATED     :seq $shards
 * &gt;4 FAILING_OVER :seq :time_s $shards
 * &gt;3 FAILED_OVER  :seq $shards
 * </pre>
 *
 * Immutable; never holds a credential or a value (only the frame's own fields).
 */
public final class MaintenanceNotice {
  /** The notification types; {@link #starts()} opens a maintenance window, {@link #ends()} closes it. */
  public enum Type {
    MOVING,
    MIGRATING,
    MIGRATED,
    FAILING_OVER,
    FAILED_OVER;

    /** The type named {@code name} (any case), or null when it is not a maintenance push. */
    public static Type of(String name) {
      if (name == null) {
        return null;
      }
      switch (name.toUpperCase(Locale.ROOT)) {
        case "MOVING":
          return MOVING;
        case "MIGRATING":
          return MIGRATING;
        case "MIGRATED":
          return MIGRATED;
        case "FAILING_OVER":
          return FAILING_OVER;
        case "FAILED_OVER":
          return FAILED_OVER;
        default:
          return null;
      }
    }

    public boolean starts() {
      return this == MIGRATING || this == FAILING_OVER;
    }

    public boolean ends() {
      return this == MIGRATED || this == FAILED_OVER;
    }
  }

  private final Type type;
  private final long seq;
  private final long timeSeconds; // -1: the type carries none
  private final String host; // MOVING only; null: the null endpoint (reconnect to the same one)
  private final int port;
  private final String shards; // null: none given

  private MaintenanceNotice(Type type, long seq, long timeSeconds, String host, int port, String shards) {
    this.type = type;
    this.seq = seq;
    this.timeSeconds = timeSeconds;
    this.host = host;
    this.port = port;
    this.shards = shards;
  }

  /** A notice built from known fields (tests, clients that parse the frame themselves). */
  public static MaintenanceNotice of(Type type, long seq, long timeSeconds, String host, int port, String shards) {
    return new MaintenanceNotice(type, seq, timeSeconds, host, port, shards);
  }

  /** The frame's type name when it is one of ours, else null: a cheap test before {@link #parse}. */
  public static Type typeOf(List<?> frame) {
    if (frame == null || frame.isEmpty()) {
      return null;
    }
    Object first = frame.get(0);
    if (!(first instanceof String || first instanceof byte[] || first instanceof ByteBuffer)) {
      return null;
    }
    return Type.of(text(first));
  }

  /**
   * Parses a maintenance push frame (its first element is the type).
   *
   * @throws MalformedNoticeException with a one-line reason when the frame is a maintenance type
   *     whose fields are missing or of the wrong kind
   */
  public static MaintenanceNotice parse(List<?> frame) throws MalformedNoticeException {
    Type type = typeOf(frame);
    if (type == null) {
      throw new MalformedNoticeException("not a maintenance notification: " + describeType(frame));
    }
    long seq = number(frame, 1, type, "seq");
    switch (type) {
      case MOVING:
        {
          long time = number(frame, 2, type, "time");
          if (frame.size() < 4) {
            throw new MalformedNoticeException("MOVING without an endpoint (" + frame.size() + " elements)");
          }
          Object ep = frame.get(3);
          if (ep == null) {
            return new MaintenanceNotice(type, seq, time, null, 0, null);
          }
          String endpoint = text(ep);
          if (endpoint == null || endpoint.isEmpty() || endpoint.equalsIgnoreCase("null")) {
            return new MaintenanceNotice(type, seq, time, null, 0, null);
          }
          int colon = endpoint.lastIndexOf(':');
          if (colon <= 0 || colon == endpoint.length() - 1) {
            throw new MalformedNoticeException("MOVING endpoint is not host:port: " + clip(endpoint));
          }
          String h = endpoint.substring(0, colon);
          if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
          }
          int p;
          try {
            p = Integer.parseInt(endpoint.substring(colon + 1));
          } catch (NumberFormatException e) {
            p = -1;
          }
          if (p < 1 || p > 65535) {
            throw new MalformedNoticeException("MOVING endpoint has no valid port: " + clip(endpoint));
          }
          return new MaintenanceNotice(type, seq, time, h, p, null);
        }
      case MIGRATING:
      case FAILING_OVER:
        {
          long time = number(frame, 2, type, "time");
          return new MaintenanceNotice(type, seq, time, null, 0, shards(frame, 3));
        }
      default:
        return new MaintenanceNotice(type, seq, -1, null, 0, shards(frame, 2));
    }
  }

  public Type type() {
    return type;
  }

  public long seq() {
    return seq;
  }

  /** Seconds the server expects the maintenance (or, for MOVING, the old endpoint) to last; -1: none. */
  public long timeSeconds() {
    return timeSeconds;
  }

  /** MOVING: the new endpoint's host, or null for "the same endpoint, later". */
  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  /** Shard ids as sent (comma separated), or null. */
  public String shards() {
    return shards;
  }

  /** A MOVING whose endpoint is null: reconnect to the same endpoint after time/2. */
  public boolean isMovingInPlace() {
    return type == Type.MOVING && host == null;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder(type.name()).append(" seq=").append(seq);
    if (timeSeconds >= 0) {
      b.append(" time=").append(timeSeconds).append('s');
    }
    if (type == Type.MOVING) {
      b.append(" endpoint=").append(host == null ? "null" : host + ":" + port);
    }
    if (shards != null) {
      b.append(" shards=").append(shards);
    }
    return b.toString();
  }

  private static long number(List<?> frame, int i, Type type, String field) throws MalformedNoticeException {
    if (frame.size() <= i) {
      throw new MalformedNoticeException(type + " without " + field + " (" + frame.size() + " elements)");
    }
    Object o = frame.get(i);
    if (o instanceof Number) {
      long v = ((Number) o).longValue();
      if (v >= 0) {
        return v;
      }
    } else if (o != null) {
      String s = text(o);
      if (s != null) {
        try {
          long v = Long.parseLong(s.trim());
          if (v >= 0) {
            return v;
          }
        } catch (NumberFormatException ignored) {
          // reported below
        }
      }
    }
    throw new MalformedNoticeException(type + " " + field + " is not a non-negative integer");
  }

  private static String shards(List<?> frame, int i) {
    if (frame.size() <= i || frame.get(i) == null) {
      return null;
    }
    Object o = frame.get(i);
    if (o instanceof List) {
      StringBuilder b = new StringBuilder();
      for (Object e : (List<?>) o) {
        if (b.length() > 0) {
          b.append(',');
        }
        b.append(text(e));
      }
      return clip(b.toString());
    }
    return o instanceof Number ? o.toString() : clip(text(o));
  }

  private static String describeType(List<?> frame) {
    if (frame == null || frame.isEmpty()) {
      return "empty frame";
    }
    String t = text(frame.get(0));
    return t == null ? "type is not a string" : clip(t);
  }

  /** Text of a decoded bulk or simple string (UTF-8), or null when it is none of those. */
  static String text(Object o) {
    if (o instanceof String) {
      return (String) o;
    }
    if (o instanceof byte[]) {
      return new String((byte[]) o, StandardCharsets.UTF_8);
    }
    if (o instanceof ByteBuffer) {
      ByteBuffer b = ((ByteBuffer) o).duplicate();
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      return new String(bytes, StandardCharsets.UTF_8);
    }
    if (o instanceof Number) {
      return o.toString();
    }
    return null;
  }

  private static String clip(String s) {
    if (s == null) {
      return null;
    }
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  /** A maintenance frame whose fields do not parse; the message is one line. */
  public static final class MalformedNoticeException extends Exception {
    private static final long serialVersionUID = 1L;

    public MalformedNoticeException(String message) {
      super(message, null, false, false);
    }
  }
}
