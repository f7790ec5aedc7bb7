package dev.redisresilience.agent.maintenance;

import dev.redisresilience.agent.config.AgentConfig;
import dev.redisresilience.agent.config.Settings;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * How the agent takes part in Smart Client Handoffs, built once from configuration: whether it
 * opts connections in, how far timeouts are relaxed during a maintenance window and for how long
 * at most, and which endpoint type MOVING notifications should carry.
 */
public final class MaintenancePolicy {
  /** auto: opt in on RESP3 connections, stay off quietly when the server refuses. */
  public enum Mode {
    AUTO,
    ON,
    OFF
  }

  private static volatile MaintenancePolicy current = from(AgentConfig.defaults());

  private final Mode mode;
  private final long relaxedTimeoutNanos;
  private final long maxWindowNanos;
  private final String endpointType; // "auto" or the explicit type

  MaintenancePolicy(Mode mode, long relaxedTimeoutNanos, long maxWindowNanos, String endpointType) {
    this.mode = mode;
    this.relaxedTimeoutNanos = relaxedTimeoutNanos;
    this.maxWindowNanos = maxWindowNanos;
    this.endpointType = endpointType;
  }

  public static MaintenancePolicy from(AgentConfig c) {
    return new MaintenancePolicy(
        Mode.valueOf(c.get(Settings.MAINTENANCE_ENABLED).toUpperCase(Locale.ROOT)),
        c.get(Settings.MAINTENANCE_RELAXED_TIMEOUT).toNanos(),
        c.get(Settings.MAINTENANCE_MAX_WINDOW).toNanos(),
        c.get(Settings.MAINTENANCE_ENDPOINT_TYPE));
  }

  public static MaintenancePolicy get() {
    return current;
  }

  public static void install(MaintenancePolicy p) {
    current = p;
  }

  public Mode mode() {
    return mode;
  }

  public boolean enabled() {
    return mode != Mode.OFF;
  }

  /**
   * The timeout during a maintenance window: at least the relaxed timeout, never shorter than the
   * connection's own ({@code baseNanos}); 0 (infinite, a blocking command) stays 0.
   */
  public long relaxedNanos(long baseNanos) {
    if (baseNanos <= 0) {
      return baseNanos;
    }
    return Math.max(baseNanos, relaxedTimeoutNanos);
  }

  public long relaxedTimeoutNanos() {
    return relaxedTimeoutNanos;
  }

  /** After MIGRATED / FAILED_OVER, timeouts stay relaxed this long (in-flight moves settle). */
  public long graceNanos() {
    return relaxedTimeoutNanos;
  }

  /** The longest a connection stays relaxed without an end notification. */
  public long maxWindowNanos() {
    return maxWindowNanos;
  }

  /**
   * The endpoint type to ask for when the client connects to {@code host}: explicit when
   * configured; auto: an IP literal asks for an IP (internal when private or loopback), a name for
   * a name (external-fqdn unless it looks cluster-internal).
   */
  public String endpointTypeFor(String host) {
    if (!endpointType.equals("auto")) {
      return endpointType;
    }
    if (host == null || host.isEmpty()) {
      return "internal-ip";
    }
    String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    if (isIpLiteral(h)) {
      try {
        InetAddress a = InetAddress.getByName(h); // a literal: no lookup
        boolean internal =
            a.isLoopbackAddress() || a.isSiteLocalAddress() || a.isLinkLocalAddress() || isUniqueLocal(a);
        return internal ? "internal-ip" : "external-ip";
      } catch (Exception e) {
        return "internal-ip";
      }
    }
    String lower = h.toLowerCase(Locale.ROOT);
    boolean internal =
        lower.equals("localhost")
            || lower.indexOf('.') < 0
            || lower.endsWith(".internal")
            || lower.endsWith(".local")
            || lower.endsWith(".svc")
            || lower.contains(".svc.");
    return internal ? "internal-fqdn" : "external-fqdn";
  }

  /** The opt-in command's arguments, after HELLO 3, for a connection to {@code host}. */
  public List<String> optInArgs(String host) {
    return Collections.unmodifiableList(
        Arrays.asList("CLIENT", "MAINT_NOTIFICATIONS", "ON", "moving-endpoint-type", endpointTypeFor(host)));
  }

  /** An IPv4 or IPv6 literal (no name to resolve). */
  public static boolean isIpLiteral(String h) {
    if (h.indexOf(':') >= 0) {
      return true; // IPv6
    }
    int dots = 0;
    for (int i = 0; i < h.length(); i++) {
      char c = h.charAt(i);
      if (c == '.') {
        dots++;
      } else if (c < '0' || c > '9') {
        return false;
      }
    }
    return dots == 3;
  }

  private static boolean isUniqueLocal(InetAddress a) {
    byte[] b = a.getAddress();
    return b.length == 16 && (b[0] & 0xfe) == 0xfc;
  }
}
