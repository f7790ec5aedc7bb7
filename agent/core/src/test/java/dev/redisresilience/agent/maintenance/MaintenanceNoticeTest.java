package dev.redisresilience.agent.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.redisresilience.agent.maintenance.MaintenanceNotice.MalformedNoticeException;
import dev.redisresilience.agent.maintenance.MaintenanceNotice.Type;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import org.junit.jupiter.api.Test;

/** The five notification frames as the clients decode them, and what is refused as malformed. */
class MaintenanceNoticeTest {
  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void parsesEveryTypeFromBytesStringsAndByteBuffers() throws Exception {
    MaintenanceNotice moving = MaintenanceNotice.parse(Arrays.asList(b("MOVING"), 7L, 30L, b("10.0.0.9:12000")));
    assertThat(moving.type()).isEqualTo(Type.MOVING);
    assertThat(moving.seq()).isEqualTo(7);
    assertThat(moving.timeSeconds()).isEqualTo(30);
    assertThat(moving.host()).isEqualTo("10.0.0.9");
    assertThat(moving.port()).isEqualTo(12000);
    assertThat(moving.isMovingInPlace()).isFalse();

    MaintenanceNotice migrating =
        MaintenanceNotice.parse(
            Arrays.asList(ByteBuffer.wrap(b("MIGRATING")), 8L, 15L, ByteBuffer.wrap(b("1,2"))));
    assertThat(migrating.type()).isEqualTo(Type.MIGRATING);
    assertThat(migrating.type().starts()).isTrue();
    assertThat(migrating.timeSeconds()).isEqualTo(15);
    assertThat(migrating.shards()).isEqualTo("1,2");

    MaintenanceNotice migrated = MaintenanceNotice.parse(Arrays.asList("migrated", 9L, "1,2"));
    assertThat(migrated.type()).isEqualTo(Type.MIGRATED);
    assertThat(migrated.type().ends()).isTrue();
    assertThat(migrated.timeSeconds()).isEqualTo(-1);

    assertThat(MaintenanceNotice.parse(Arrays.asList("FAILING_OVER", 10L, 5L, "3")).type())
        .isEqualTo(Type.FAILING_OVER);
    assertThat(MaintenanceNotice.parse(Arrays.asList("FAILED_OVER", 11L, Arrays.asList("3", "4"))).shards())
        .isEqualTo("3,4");
  }

  @Test
  void movingWithANullEndpointMeansTheSameEndpointLater() throws Exception {
    MaintenanceNotice n = MaintenanceNotice.parse(Arrays.asList("MOVING", 1L, 20L, null));
    assertThat(n.isMovingInPlace()).isTrue();
    assertThat(n.host()).isNull();
    assertThat(n.toString()).isEqualTo("MOVING seq=1 time=20s endpoint=null");
  }

  @Test
  void ipv6EndpointsKeepTheirColons() throws Exception {
    MaintenanceNotice n = MaintenanceNotice.parse(Arrays.asList("MOVING", 1L, 20L, "[::1]:7000"));
    assertThat(n.host()).isEqualTo("::1");
    assertThat(n.port()).isEqualTo(7000);
  }

  @Test
  void otherPushesAreNotMaintenance() {
    assertThat(MaintenanceNotice.typeOf(Arrays.asList(b("message"), b("ch"), b("v")))).isNull();
    assertThat(MaintenanceNotice.typeOf(Arrays.asList(b("invalidate"), null))).isNull();
    assertThat(MaintenanceNotice.typeOf(Collections.emptyList())).isNull();
    assertThat(MaintenanceNotice.typeOf(Arrays.asList(42L))).isNull();
    assertThat(MaintenanceNotice.typeOf(null)).isNull();
  }

  @Test
  void malformedFramesAreRefusedWithAOneLineReason() {
    assertThatThrownBy(() -> MaintenanceNotice.parse(Arrays.asList("MOVING", 1L)))
        .isInstanceOf(MalformedNoticeException.class)
        .hasMessage("MOVING without time (2 elements)");
    assertThatThrownBy(() -> MaintenanceNotice.parse(Arrays.asList("MOVING", 1L, 5L, "nohostport")))
        .hasMessageContaining("not host:port");
    assertThatThrownBy(() -> MaintenanceNotice.parse(Arrays.asList("MOVING", 1L, 5L, "h:99999")))
        .hasMessageContaining("no valid port");
    assertThatThrownBy(() -> MaintenanceNotice.parse(Arrays.asList("MIGRATING", "x", 5L, "1")))
        .hasMessage("MIGRATING seq is not a non-negative integer");
    assertThatThrownBy(() -> MaintenanceNotice.parse(Arrays.asList("MIGRATED", -3L, "1")))
        .hasMessage("MIGRATED seq is not a non-negative integer");
    assertThatThrownBy(() -> MaintenanceNotice.parse(Arrays.asList("message", "ch")))
        .hasMessageContaining("not a maintenance notification");
  }

  @Test
  void numbersMayArriveAsText() throws Exception {
    assertThat(MaintenanceNotice.parse(Arrays.asList("MIGRATING", b("12"), b("3"), "1")).seq()).isEqualTo(12);
  }
}
