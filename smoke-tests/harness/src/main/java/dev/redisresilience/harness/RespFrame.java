package dev.redisresilience.harness;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One RESP2/RESP3 value as a tree, with its encoder and decoder, for tests that build exact frames
 * (push notifications, replies) and check what a client received. Decoding uses {@link
 * FaultProxy}'s framing reader, so the proxy and the tests agree on what a message is; malformed
 * input is rejected with an {@link IllegalArgumentException} whose message says what is wrong.
 *
 * <p>Streamed strings and aggregates ({@code $?}, {@code *?}) decode to their ordinary form; an
 * attribute ({@code |}) decodes onto the value it precedes ({@link #attribute()}).
 */
public final class RespFrame {
  /** The RESP types; the two RESP2 nulls are kept apart from the RESP3 null. */
  public enum Type {
    SIMPLE_STRING('+'),
    SIMPLE_ERROR('-'),
    INTEGER(':'),
    BULK_STRING('$'),
    NULL_BULK('$'),
    NULL_ARRAY('*'),
    NULL('_'),
    DOUBLE(','),
    BOOLEAN('#'),
    BIG_NUMBER('('),
    BULK_ERROR('!'),
    VERBATIM('='),
    ARRAY('*'),
    SET('~'),
    MAP('%'),
    PUSH('>'),
    ATTRIBUTE('|');

    final char marker;

    Type(char marker) {
      this.marker = marker;
    }

    boolean aggregate() {
      return this == ARRAY || this == SET || this == MAP || this == PUSH || this == ATTRIBUTE;
    }

    boolean payload() {
      return this == BULK_STRING || this == BULK_ERROR || this == VERBATIM;
    }
  }

  private final Type type;
  private final byte[] data; // scalars: the line's text or the payload; aggregates: null
  private final List<RespFrame> elements; // aggregates (a map: key, value, key, value...)
  private final RespFrame attribute; // an ATTRIBUTE frame sent before this value, or null

  private RespFrame(Type type, byte[] data, List<RespFrame> elements, RespFrame attribute) {
    this.type = type;
    this.data = data;
    this.elements = elements;
    this.attribute = attribute;
  }

  // --- builders ----------------------------------------------------------------------------------

  public static RespFrame simple(String s) {
    return line(Type.SIMPLE_STRING, s);
  }

  public static RespFrame error(String s) {
    return line(Type.SIMPLE_ERROR, s);
  }

  public static RespFrame integer(long n) {
    return line(Type.INTEGER, Long.toString(n));
  }

  public static RespFrame bulk(String s) {
    return bulk(s.getBytes(StandardCharsets.UTF_8));
  }

  public static RespFrame bulk(byte[] b) {
    return new RespFrame(Type.BULK_STRING, b.clone(), null, null);
  }

  /** RESP3 {@code _}. */
  public static RespFrame nullValue() {
    return new RespFrame(Type.NULL, new byte[0], null, null);
  }

  /** RESP2 {@code $-1}. */
  public static RespFrame nullBulk() {
    return new RespFrame(Type.NULL_BULK, new byte[0], null, null);
  }

  /** RESP2 {@code *-1}. */
  public static RespFrame nullArray() {
    return new RespFrame(Type.NULL_ARRAY, new byte[0], null, null);
  }

  public static RespFrame dbl(double d) {
    String text =
        Double.isNaN(d)
            ? "nan"
            : Double.isInfinite(d) ? (d > 0 ? "inf" : "-inf") : Double.toString(d);
    return line(Type.DOUBLE, text);
  }

  public static RespFrame bool(boolean b) {
    return line(Type.BOOLEAN, b ? "t" : "f");
  }

  public static RespFrame bigNumber(java.math.BigInteger n) {
    return line(Type.BIG_NUMBER, n.toString());
  }

  public static RespFrame bulkError(String s) {
    return new RespFrame(Type.BULK_ERROR, s.getBytes(StandardCharsets.UTF_8), null, null);
  }

  /** {@code =} with a three-letter format such as {@code txt} or {@code mkd}. */
  public static RespFrame verbatim(String format, String text) {
    if (format.length() != 3) {
      throw new IllegalArgumentException("a verbatim format has 3 characters: " + format);
    }
    return new RespFrame(
        Type.VERBATIM, (format + ":" + text).getBytes(StandardCharsets.UTF_8), null, null);
  }

  public static RespFrame array(RespFrame... elements) {
    return aggregate(Type.ARRAY, elements);
  }

  public static RespFrame set(RespFrame... elements) {
    return aggregate(Type.SET, elements);
  }

  /** Keys and values alternating. */
  public static RespFrame map(RespFrame... keysAndValues) {
    return aggregate(Type.MAP, keysAndValues);
  }

  public static RespFrame push(RespFrame... elements) {
    return aggregate(Type.PUSH, elements);
  }

  /** This value preceded by an attribute map (keys and values alternating). */
  public RespFrame withAttribute(RespFrame... keysAndValues) {
    return new RespFrame(type, data, elements, aggregate(Type.ATTRIBUTE, keysAndValues));
  }

  /** A client command as a RESP array of bulk strings. */
  public static RespFrame command(String... args) {
    RespFrame[] parts = new RespFrame[args.length];
    for (int i = 0; i < args.length; i++) {
      parts[i] = bulk(args[i]);
    }
    return array(parts);
  }

  private static RespFrame line(Type type, String text) {
    if (text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0) {
      throw new IllegalArgumentException("a " + type + " cannot contain CR or LF: " + text);
    }
    return new RespFrame(type, text.getBytes(StandardCharsets.UTF_8), null, null);
  }

  private static RespFrame aggregate(Type type, RespFrame... elements) {
    for (RespFrame e : elements) {
      Objects.requireNonNull(e, "element");
    }
    if ((type == Type.MAP || type == Type.ATTRIBUTE) && elements.length % 2 != 0) {
      throw new IllegalArgumentException("a " + type + " needs keys and values in pairs");
    }
    return new RespFrame(type, null, List.of(elements), null);
  }

  // --- accessors ---------------------------------------------------------------------------------

  public Type type() {
    return type;
  }

  /** Scalars: the text (a string's payload, an integer's digits); aggregates: an exception. */
  public String text() {
    if (data == null) {
      throw new IllegalStateException("a " + type + " has elements, not text");
    }
    return new String(data, StandardCharsets.UTF_8);
  }

  public long asLong() {
    return Long.parseLong(text());
  }

  public boolean isNull() {
    return type == Type.NULL || type == Type.NULL_BULK || type == Type.NULL_ARRAY;
  }

  public List<RespFrame> elements() {
    if (elements == null) {
      throw new IllegalStateException("a " + type + " has no elements");
    }
    return elements;
  }

  public RespFrame element(int i) {
    return elements().get(i);
  }

  /** The attribute sent before this value, or null. */
  public RespFrame attribute() {
    return attribute;
  }

  // --- encoding ----------------------------------------------------------------------------------

  public byte[] encode() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    encode(out);
    return out.toByteArray();
  }

  private void encode(ByteArrayOutputStream out) {
    if (attribute != null) {
      attribute.encode(out);
    }
    switch (type) {
      case NULL_BULK:
        ascii(out, "$-1\r\n");
        return;
      case NULL_ARRAY:
        ascii(out, "*-1\r\n");
        return;
      case NULL:
        ascii(out, "_\r\n");
        return;
      default:
        break;
    }
    if (type.aggregate()) {
      int n = type == Type.MAP || type == Type.ATTRIBUTE ? elements.size() / 2 : elements.size();
      ascii(out, type.marker + Integer.toString(n) + "\r\n");
      for (RespFrame e : elements) {
        e.encode(out);
      }
    } else if (type.payload()) {
      ascii(out, type.marker + Integer.toString(data.length) + "\r\n");
      out.write(data, 0, data.length);
      ascii(out, "\r\n");
    } else {
      out.write(type.marker);
      out.write(data, 0, data.length);
      ascii(out, "\r\n");
    }
  }

  private static void ascii(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    out.write(b, 0, b.length);
  }

  // --- decoding ----------------------------------------------------------------------------------

  /** Exactly one value (trailing bytes are an error). */
  public static RespFrame decode(byte[] bytes) {
    List<RespFrame> all = decodeAll(bytes);
    if (all.size() != 1) {
      throw new IllegalArgumentException("expected one RESP value, got " + all.size());
    }
    return all.get(0);
  }

  /** Every value in {@code bytes}, in order; an empty array gives an empty list. */
  public static List<RespFrame> decodeAll(byte[] bytes) {
    Decoder d = new Decoder(new ByteArrayInputStream(bytes));
    List<RespFrame> all = new ArrayList<>();
    for (RespFrame f = d.next(); f != null; f = d.next()) {
      all.add(f);
    }
    return all;
  }

  /**
   * The arguments of one client command, a RESP array of bulk strings or an inline line (split on
   * spaces and tabs); empty for a line or array that carries no command.
   */
  public static List<String> decodeCommand(byte[] bytes) {
    FaultProxy.RespReader r = new FaultProxy.RespReader(new ByteArrayInputStream(bytes), () -> {});
    try {
      FaultProxy.RespReader.Command c = r.readCommand();
      if (c == null) {
        throw new IllegalArgumentException("no RESP command in 0 bytes");
      }
      if (!r.atEnd()) {
        throw new IllegalArgumentException("bytes left after one RESP command");
      }
      List<String> args = new ArrayList<>();
      for (byte[] a : c.args()) {
        args.add(new String(a, StandardCharsets.UTF_8));
      }
      return args;
    } catch (EOFException e) {
      throw new IllegalArgumentException("truncated RESP command: " + e.getMessage(), e);
    } catch (ProtocolException e) {
      throw new IllegalArgumentException("malformed RESP command: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Decodes values one after another off a stream (e.g. a test client's socket). */
  public static final class Decoder {
    private final Builder builder = new Builder();
    private final FaultProxy.RespReader reader;

    public Decoder(InputStream in) {
      reader = new FaultProxy.RespReader(in, () -> {}, builder);
    }

    /**
     * The next value, or null when the input ended between values. Malformed input: an {@link
     * IllegalArgumentException}; a socket timeout or other I/O error: an {@link
     * UncheckedIOException} around it.
     */
    public RespFrame next() {
      builder.reset();
      try {
        if (reader.readReply() == null) {
          return null;
        }
      } catch (EOFException e) {
        throw new IllegalArgumentException("truncated RESP value: " + e.getMessage(), e);
      } catch (ProtocolException e) {
        throw new IllegalArgumentException("malformed RESP value: " + e.getMessage(), e);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return builder.result();
    }
  }

  /** Builds the tree from the reader's value events. */
  private static final class Builder implements FaultProxy.RespReader.ValueSink {
    private static final class Open {
      final char marker;
      final boolean nullArray;
      final List<RespFrame> children = new ArrayList<>();
      RespFrame pendingAttribute;

      Open(char marker, boolean nullArray) {
        this.marker = marker;
        this.nullArray = nullArray;
      }
    }

    private final ArrayDeque<Open> stack = new ArrayDeque<>();
    private Open root;

    void reset() {
      stack.clear();
      root = new Open('\0', false);
      stack.push(root);
    }

    RespFrame result() {
      return root.children.get(0);
    }

    @Override
    public void scalar(String line, byte[] payload) {
      char m = line.charAt(0);
      String rest = line.substring(1);
      RespFrame f;
      switch (m) {
        case '+':
          f = simple(rest);
          break;
        case '-':
          f = error(rest);
          break;
        case ':':
          try {
            f = integer(Long.parseLong(rest));
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("malformed RESP value: bad integer in " + line);
          }
          break;
        case '_':
          f = nullValue();
          break;
        case ',':
          f = line(Type.DOUBLE, rest);
          break;
        case '#':
          if (!rest.equals("t") && !rest.equals("f")) {
            throw new IllegalArgumentException("malformed RESP value: bad boolean in " + line);
          }
          f = bool(rest.equals("t"));
          break;
        case '(':
          f = line(Type.BIG_NUMBER, rest);
          break;
        case '$':
          f = payload == null ? nullBulk() : new RespFrame(Type.BULK_STRING, payload, null, null);
          break;
        case '!':
          f = new RespFrame(Type.BULK_ERROR, payload == null ? new byte[0] : payload, null, null);
          break;
        case '=':
          f = new RespFrame(Type.VERBATIM, payload == null ? new byte[0] : payload, null, null);
          break;
        default:
          throw new IllegalArgumentException("malformed RESP value: unknown type in " + line);
      }
      add(f);
    }

    @Override
    public void begin(String line) {
      stack.push(new Open(line.charAt(0), line.equals("*-1")));
    }

    @Override
    public void end() {
      Open o = stack.pop();
      if (o.nullArray) {
        add(nullArray());
        return;
      }
      Type t;
      switch (o.marker) {
        case '*':
          t = Type.ARRAY;
          break;
        case '~':
          t = Type.SET;
          break;
        case '%':
          t = Type.MAP;
          break;
        case '>':
          t = Type.PUSH;
          break;
        default:
          t = Type.ATTRIBUTE;
          break;
      }
      if ((t == Type.MAP || t == Type.ATTRIBUTE) && o.children.size() % 2 != 0) {
        throw new IllegalArgumentException("malformed RESP value: a streamed map ended mid-entry");
      }
      RespFrame f = new RespFrame(t, null, List.copyOf(o.children), null);
      if (t == Type.ATTRIBUTE) {
        stack.peek().pendingAttribute = f;
      } else {
        add(f);
      }
    }

    private void add(RespFrame f) {
      Open parent = stack.peek();
      if (parent.pendingAttribute != null) {
        f = new RespFrame(f.type, f.data, f.elements, parent.pendingAttribute);
        parent.pendingAttribute = null;
      }
      parent.children.add(f);
    }
  }

  // --- value semantics ---------------------------------------------------------------------------

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof RespFrame)) {
      return false;
    }
    RespFrame f = (RespFrame) o;
    return type == f.type
        && Arrays.equals(data, f.data)
        && Objects.equals(elements, f.elements)
        && Objects.equals(attribute, f.attribute);
  }

  @Override
  public int hashCode() {
    return Objects.hash(type, Arrays.hashCode(data), elements, attribute);
  }

  /** Readable, e.g. {@code >["MOVING", :1, :15, "127.0.0.1:6380"]}; for assertions' messages. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    if (attribute != null) {
      sb.append(attribute).append(' ');
    }
    switch (type) {
      case NULL:
      case NULL_BULK:
      case NULL_ARRAY:
        return sb.append("null").toString();
      case BULK_STRING:
        return sb.append('"').append(text()).append('"').toString();
      case ARRAY:
      case SET:
      case MAP:
      case PUSH:
      case ATTRIBUTE:
        sb.append(type.marker).append('[');
        for (int i = 0; i < elements.size(); i++) {
          if (i > 0) {
            sb.append(", ");
          }
          sb.append(elements.get(i));
        }
        return sb.append(']').toString();
      default:
        return sb.append(type.marker).append(text()).toString();
    }
  }
}
