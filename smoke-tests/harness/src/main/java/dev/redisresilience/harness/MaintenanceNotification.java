package dev.redisresilience.harness;

import java.nio.charset.StandardCharsets;

/**
 * The Smart client handoff push frames Redis Software and Redis Cloud send before planned
 * maintenance, built exactly as their clients parse them (see the SCH section of the project's
 * reference notes):
 *
 * <pre>
 *   &gt;4 MOVING       :seq :time_s ($host:port | _null)
 *   &gt;4 MIGRATING    :seq :time_s $shards
 *   &gt;3 MIGRATED     :seq $shards
 *   &gt;4 FAILING_OVER :seq :time_s $shards
 *   &gt;3 FAILED_OVER  :seq $shards
 * </pre>
 *
 * plus well-formed frames of unknown types and deliberately broken bytes, for the scenarios that
 * check a client survives them. Send them with {@link MaintenanceSimulator}.
 */
public final class MaintenanceNotification {
  private MaintenanceNotification() {}

  /** {@code MOVING}: reconnect to {@code endpoint} ("host:port"; null: the same endpoint). */
  public static RespFrame moving(long seq, long timeSeconds, String endpoint) {
    return RespFrame.push(
        RespFrame.bulk("MOVING"),
        RespFrame.integer(seq),
        RespFrame.integer(timeSeconds),
        endpoint == null ? RespFrame.nullValue() : RespFrame.bulk(endpoint));
  }

  /** {@code MIGRATING}: the shards (e.g. "1" or "1,2") start moving within {@code timeSeconds}. */
  public static RespFrame migrating(long seq, long timeSeconds, String shards) {
    return timed("MIGRATING", seq, timeSeconds, shards);
  }

  public static RespFrame migrated(long seq, String shards) {
    return done("MIGRATED", seq, shards);
  }

  public static RespFrame failingOver(long seq, long timeSeconds, String shards) {
    return timed("FAILING_OVER", seq, timeSeconds, shards);
  }

  public static RespFrame failedOver(long seq, String shards) {
    return done("FAILED_OVER", seq, shards);
  }

  /** A well-formed push of a type no client knows, e.g. {@code unknown("REBALANCING", 7)}. */
  public static RespFrame unknown(String type, long seq) {
    return RespFrame.push(RespFrame.bulk(type), RespFrame.integer(seq));
  }

  /** Valid RESP, wrong content: a MOVING whose seq is text and that lacks its endpoint. */
  public static RespFrame movingWithBadFields() {
    return RespFrame.push(
        RespFrame.bulk("MOVING"), RespFrame.bulk("not-a-number"), RespFrame.integer(15));
  }

  /** Valid RESP, wrong content: a MIGRATING with nothing after its name. */
  public static RespFrame migratingWithoutFields() {
    return RespFrame.push(RespFrame.bulk("MIGRATING"));
  }

  /**
   * Not valid RESP: a push header announcing 4 elements and carrying 2, then a non-number where an
   * integer must be. A client reading it mis-frames what follows, so send it last on a connection.
   */
  public static byte[] brokenPushBytes() {
    return ">4\r\n$6\r\nMOVING\r\n:x1\r\n".getBytes(StandardCharsets.US_ASCII);
  }

  private static RespFrame timed(String type, long seq, long timeSeconds, String shards) {
    return RespFrame.push(
        RespFrame.bulk(type),
        RespFrame.integer(seq),
        RespFrame.integer(timeSeconds),
        RespFrame.bulk(shards));
  }

  private static RespFrame done(String type, long seq, String shards) {
    return RespFrame.push(RespFrame.bulk(type), RespFrame.integer(seq), RespFrame.bulk(shards));
  }
}
