package dev.redisresilience.harness.demo;

import dev.redisresilience.harness.FaultProxy;
import dev.redisresilience.harness.RedisServer;
import java.time.Duration;

/**
 * The demo's faults: when each starts and ends, scaled to the run's length (30 s by default).
 * The README's table, the dashboard picture and the Prometheus test all run this one timeline.
 */
public final class FaultTimeline {
  public final int loadingFrom;
  public final int loadingTo;
  public final int slowFrom;
  public final int slowTo;
  public final int kill;
  public final int restart;

  public FaultTimeline(int seconds) {
    loadingFrom = Math.max(2, seconds * 5 / 30);
    loadingTo = loadingFrom + Math.max(1, seconds * 3 / 30);
    slowFrom = loadingTo + Math.max(1, seconds * 2 / 30);
    slowTo = slowFrom + Math.max(1, seconds * 2 / 30);
    kill = slowTo + Math.max(1, seconds * 3 / 30);
    restart = kill + Math.max(1, seconds * 3 / 30);
  }

  /** Applies the faults due at second {@code t}; returns a marker for the summary line. */
  public String apply(int t, RedisServer redis, FaultProxy proxy) {
    if (t >= loadingFrom && t < loadingTo) {
      // 20 GETs a second get -LOADING (a replica loading its dataset): retried, not failed
      proxy.injectError("GET", "LOADING Redis is loading the dataset in memory", 20);
      return t == loadingFrom ? "  <- some GETs answered -LOADING" : "";
    }
    if (t == loadingTo) {
      proxy.clearFaults();
      return "";
    }
    if (t == slowFrom) {
      proxy.delayReplies(Duration.ofMillis(1500));
      return "  <- replies take 1.5s from now";
    }
    if (t == slowTo) {
      proxy.clearFaults();
      return "  <- replies fast again";
    }
    if (t == kill) {
      redis.kill9();
      return "  <- redis-server killed (SIGKILL)";
    }
    if (t == restart) {
      redis.startProcess();
      return "  <- redis-server restarted";
    }
    return "";
  }
}
