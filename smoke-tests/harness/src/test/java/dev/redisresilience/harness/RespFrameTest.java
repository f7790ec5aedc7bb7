package dev.redisresilience.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The RESP codec on its own: exact bytes, round trips, and malformed input rejected clearly. */
class RespFrameTest {

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String s(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @Test
  void encodesEveryTypeExactly() {
    assertThat(s(RespFrame.simple("OK").encode())).isEqualTo("+OK\r\n");
    assertThat(s(RespFrame.error("ERR no").encode())).isEqualTo("-ERR no\r\n");
    assertThat(s(RespFrame.integer(-42).encode())).isEqualTo(":-42\r\n");
    assertThat(s(RespFrame.bulk("é").encode())).isEqualTo("$2\r\né\r\n");
    assertThat(s(RespFrame.bulk("").encode())).isEqualTo("$0\r\n\r\n");
    assertThat(s(RespFrame.nullValue().encode())).isEqualTo("_\r\n");
    assertThat(s(RespFrame.nullBulk().encode())).isEqualTo("$-1\r\n");
    assertThat(s(RespFrame.nullArray().encode())).isEqualTo("*-1\r\n");
    assertThat(s(RespFrame.dbl(1.5).encode())).isEqualTo(",1.5\r\n");
    assertThat(s(RespFrame.dbl(Double.NEGATIVE_INFINITY).encode())).isEqualTo(",-inf\r\n");
    assertThat(s(RespFrame.bool(true).encode())).isEqualTo("#t\r\n");
    assertThat(s(RespFrame.bigNumber(new BigInteger("12345678901234567890")).encode()))
        .isEqualTo("(12345678901234567890\r\n");
    assertThat(s(RespFrame.bulkError("SYNTAX x").encode())).isEqualTo("!8\r\nSYNTAX x\r\n");
    assertThat(s(RespFrame.verbatim("txt", "hi").encode())).isEqualTo("=6\r\ntxt:hi\r\n");
    assertThat(s(RespFrame.array(RespFrame.integer(1), RespFrame.nullValue()).encode()))
        .isEqualTo("*2\r\n:1\r\n_\r\n");
    assertThat(s(RespFrame.set(RespFrame.simple("a")).encode())).isEqualTo("~1\r\n+a\r\n");
    assertThat(s(RespFrame.map(RespFrame.simple("k"), RespFrame.integer(2)).encode()))
        .isEqualTo("%1\r\n+k\r\n:2\r\n");
    assertThat(s(RespFrame.push(RespFrame.bulk("invalidate"), RespFrame.nullValue()).encode()))
        .isEqualTo(">2\r\n$10\r\ninvalidate\r\n_\r\n");
    assertThat(
            s(RespFrame.simple("OK")
                .withAttribute(RespFrame.simple("ttl"), RespFrame.integer(3))
                .encode()))
        .isEqualTo("|1\r\n+ttl\r\n:3\r\n+OK\r\n");
    assertThat(s(RespFrame.command("GET", "k").encode())).isEqualTo("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  }

  @Test
  void everyTypeRoundTrips() {
    List<RespFrame> frames =
        List.of(
            RespFrame.simple("PONG"),
            RespFrame.error("WRONGTYPE x"),
            RespFrame.integer(Long.MIN_VALUE),
            RespFrame.bulk("line\r\nbreak"),
            RespFrame.bulk(new byte[] {0, (byte) 0xff, 13, 10}),
            RespFrame.nullValue(),
            RespFrame.nullBulk(),
            RespFrame.nullArray(),
            RespFrame.dbl(3.25),
            RespFrame.bool(false),
            RespFrame.bigNumber(BigInteger.TEN.pow(30).negate()),
            RespFrame.bulkError("ERR\r\nmultiline"),
            RespFrame.verbatim("mkd", "# title"),
            RespFrame.array(),
            RespFrame.array(RespFrame.array(RespFrame.set(RespFrame.integer(1))), RespFrame.nullBulk()),
            RespFrame.map(RespFrame.bulk("server"), RespFrame.bulk("redis"),
                RespFrame.bulk("proto"), RespFrame.integer(3)),
            RespFrame.push(RespFrame.bulk("message"), RespFrame.bulk("ch"), RespFrame.bulk("hi")),
            RespFrame.array(RespFrame.integer(1).withAttribute(RespFrame.bulk("a"), RespFrame.bool(true))),
            MaintenanceNotification.moving(1, 15, "127.0.0.1:6380"),
            MaintenanceNotification.moving(2, 30, null),
            MaintenanceNotification.migrating(3, 10, "1,2"),
            MaintenanceNotification.migrated(3, "1,2"),
            MaintenanceNotification.failingOver(4, 5, "7"),
            MaintenanceNotification.failedOver(4, "7"));
    for (RespFrame f : frames) {
      assertThat(RespFrame.decode(f.encode())).as("%s", f).isEqualTo(f);
      assertThat(RespFrame.decode(f.encode()).encode()).as("%s", f).isEqualTo(f.encode());
    }
    byte[] all = concat(frames);
    assertThat(RespFrame.decodeAll(all)).containsExactlyElementsOf(frames);
  }

  @Test
  void maintenanceFramesAreTheWireFormatClientsParse() {
    assertThat(s(MaintenanceNotification.moving(1, 15, "127.0.0.1:6380").encode()))
        .isEqualTo(">4\r\n$6\r\nMOVING\r\n:1\r\n:15\r\n$14\r\n127.0.0.1:6380\r\n")
        .isEqualTo(s(FaultProxy.encodePush("MOVING", "1", "15", "127.0.0.1:6380")));
    assertThat(s(MaintenanceNotification.moving(2, 8, null).encode()))
        .isEqualTo(">4\r\n$6\r\nMOVING\r\n:2\r\n:8\r\n_\r\n");
    assertThat(s(MaintenanceNotification.migrating(3, 10, "1").encode()))
        .isEqualTo(">4\r\n$9\r\nMIGRATING\r\n:3\r\n:10\r\n$1\r\n1\r\n");
    assertThat(s(MaintenanceNotification.migrated(3, "1").encode()))
        .isEqualTo(">3\r\n$8\r\nMIGRATED\r\n:3\r\n$1\r\n1\r\n");
    assertThat(s(MaintenanceNotification.failingOver(4, 5, "2,3").encode()))
        .isEqualTo(">4\r\n$12\r\nFAILING_OVER\r\n:4\r\n:5\r\n$3\r\n2,3\r\n");
    assertThat(s(MaintenanceNotification.failedOver(4, "2,3").encode()))
        .isEqualTo(">3\r\n$11\r\nFAILED_OVER\r\n:4\r\n$3\r\n2,3\r\n");
    assertThat(s(MaintenanceNotification.unknown("REBALANCING", 9).encode()))
        .isEqualTo(">2\r\n$11\r\nREBALANCING\r\n:9\r\n");
    // well-formed RESP with the wrong content decodes; the broken bytes do not
    assertThat(RespFrame.decode(MaintenanceNotification.movingWithBadFields().encode()).elements())
        .hasSize(3);
    assertThat(RespFrame.decode(MaintenanceNotification.migratingWithoutFields().encode()).elements())
        .hasSize(1);
    assertThatThrownBy(() -> RespFrame.decode(MaintenanceNotification.brokenPushBytes()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("malformed RESP value: bad integer in :x1");
  }

  @Test
  void decodesAccessorsAttributesAndStreamedForms() {
    RespFrame moving = RespFrame.decode(b(">4\r\n$6\r\nMOVING\r\n:1\r\n:15\r\n_\r\n"));
    assertThat(moving.type()).isEqualTo(RespFrame.Type.PUSH);
    assertThat(moving.element(0).text()).isEqualTo("MOVING");
    assertThat(moving.element(1).asLong()).isEqualTo(1);
    assertThat(moving.element(3).isNull()).isTrue();
    assertThat(moving).hasToString(">[\"MOVING\", :1, :15, null]");

    RespFrame withAttr = RespFrame.decode(b("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n+OK\r\n"));
    assertThat(withAttr.type()).isEqualTo(RespFrame.Type.SIMPLE_STRING);
    assertThat(withAttr.text()).isEqualTo("OK");
    assertThat(withAttr.attribute().type()).isEqualTo(RespFrame.Type.ATTRIBUTE);
    assertThat(withAttr.attribute().element(1).element(1).text()).isEqualTo("0.19");

    assertThat(RespFrame.decode(b("$?\r\n;3\r\nabc\r\n;2\r\nde\r\n;0\r\n")))
        .isEqualTo(RespFrame.bulk("abcde"));
    assertThat(RespFrame.decode(b("*?\r\n:1\r\n+two\r\n.\r\n")))
        .isEqualTo(RespFrame.array(RespFrame.integer(1), RespFrame.simple("two")));
    assertThat(RespFrame.decode(b("%?\r\n+a\r\n:1\r\n.\r\n")))
        .isEqualTo(RespFrame.map(RespFrame.simple("a"), RespFrame.integer(1)));
    assertThat(RespFrame.decodeAll(new byte[0])).isEmpty();
  }

  @Test
  void malformedInputIsRejectedWithAClearMessage() {
    assertRejected("@x\r\n", "malformed RESP value: unknown RESP type in @x");
    assertRejected("$5\r\nab", "truncated RESP value: connection closed inside a RESP message");
    assertRejected("$x\r\n", "malformed RESP value: bad length in $x");
    assertRejected("$2\r\nabXY", "malformed RESP value: expected CR LF after a bulk payload");
    assertRejected(":12a\r\n", "malformed RESP value: bad integer in :12a");
    assertRejected("#x\r\n", "malformed RESP value: bad boolean in #x");
    assertRejected("\r\n", "malformed RESP value: empty RESP line");
    assertRejected("*-2\r\n", "malformed RESP value: length out of range in *-2");
    assertRejected("*3\r\n:1\r\n", "truncated RESP value: connection closed inside a RESP message");
    assertRejected("%?\r\n+a\r\n.\r\n", "malformed RESP value: a streamed map ended mid-entry");
    assertRejected("+OK\r\n+OK\r\n", "expected one RESP value, got 2");
    assertRejected("", "expected one RESP value, got 0");
    assertThatThrownBy(() -> RespFrame.simple("a\r\nb"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot contain CR or LF");
    assertThatThrownBy(() -> RespFrame.map(RespFrame.simple("lonely key")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pairs");
  }

  @Test
  void decodesCommandsInRespAndInlineForm() {
    assertThat(RespFrame.decodeCommand(RespFrame.command("client", "maint_notifications", "on").encode()))
        .containsExactly("client", "maint_notifications", "on");
    assertThat(RespFrame.decodeCommand(b("CLIENT  MAINT_NOTIFICATIONS\tOFF\r\n")))
        .containsExactly("CLIENT", "MAINT_NOTIFICATIONS", "OFF");
    assertThat(RespFrame.decodeCommand(b("PING\n"))).containsExactly("PING");
    String[] many = new String[40];
    for (int i = 0; i < many.length; i++) {
      many[i] = "a" + i;
    }
    assertThat(RespFrame.decodeCommand(RespFrame.command(many).encode())).containsExactly(many);
    assertThatThrownBy(() -> RespFrame.decodeCommand(b("*1\r\n:1\r\n")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("malformed RESP command: expected a bulk string in a command, got :1");
    assertThatThrownBy(() -> RespFrame.decodeCommand(b("*2\r\n$3\r\nGET\r\n")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("truncated RESP command");
    assertThatThrownBy(() -> RespFrame.decodeCommand(b("PING\r\nPING\r\n")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bytes left after one RESP command");
  }

  private static void assertRejected(String input, String message) {
    assertThatThrownBy(() -> RespFrame.decode(b(input)))
        .as("%s", input)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
  }

  private static byte[] concat(List<RespFrame> frames) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    for (RespFrame f : frames) {
      out.writeBytes(f.encode());
    }
    return out.toByteArray();
  }
}
