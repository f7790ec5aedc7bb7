package dev.redisresilience.benchmarks;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * How much of the machine's CPU went to processes that are not part of the benchmark while a
 * forked JVM ran: the CPU time (utime + stime, plus cutime + cstime for their reaped children) of
 * every process except this driver and its descendants (redis-server, the forked JVMs) and kernel
 * threads, from {@code /proc/<pid>/stat}, as a share of all CPUs' time from {@code /proc/stat}. A
 * busy machine (another build, another benchmark) makes the numbers meaningless; this makes it
 * visible. Linux only; elsewhere every value is 0.
 */
final class CpuMeter {
  private static final Path PROC = Paths.get("/proc");

  /** A reading: all CPUs' ticks, and each foreign process's ticks keyed by pid and start time. */
  static final class Reading {
    final long total;
    final Map<String, Long> foreign;

    Reading(long total, Map<String, Long> foreign) {
      this.total = total;
      this.foreign = foreign;
    }

    /** Share of all CPUs' time, between {@code before} and this, used by other processes. */
    double foreignShare(Reading before) {
      long t = total - before.total;
      if (t <= 0) {
        return 0;
      }
      long used = 0;
      for (Map.Entry<String, Long> e : foreign.entrySet()) {
        used += Math.max(0, e.getValue() - before.foreign.getOrDefault(e.getKey(), 0L));
      }
      return Math.min(1, used / (double) t);
    }
  }

  Reading read() {
    long total = 0;
    try {
      String[] f = Files.readAllLines(PROC.resolve("stat")).get(0).trim().split("\\s+");
      // cpu user nice system idle iowait irq softirq steal [guest guest_nice: inside user/nice]
      for (int i = 1; i < Math.min(f.length, 9); i++) {
        total += Long.parseLong(f[i]);
      }
    } catch (IOException | RuntimeException e) {
      return new Reading(0, Map.of());
    }
    Set<Long> ours = new HashSet<>();
    ours.add(ProcessHandle.current().pid());
    ProcessHandle.current().descendants().forEach(p -> ours.add(p.pid()));
    Map<String, Long> foreign = new HashMap<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(PROC, "[0-9]*")) {
      for (Path dir : dirs) {
        long pid = Long.parseLong(dir.getFileName().toString());
        if (ours.contains(pid) || pid == 2) {
          continue;
        }
        String stat;
        try {
          stat = Files.readString(dir.resolve("stat"));
        } catch (IOException gone) {
          continue;
        }
        String[] s = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
        // s[0] is field 3 (state); ppid = field 4, utime 14, stime 15, cutime 16, cstime 17,
        // starttime 22
        if (Long.parseLong(s[1]) == 2) {
          continue; // kernel threads: softirq and I/O work, much of it for our own traffic
        }
        long ticks = Long.parseLong(s[11]) + Long.parseLong(s[12]) + Long.parseLong(s[13])
            + Long.parseLong(s[14]);
        foreign.put(pid + ":" + s[19], ticks);
      }
    } catch (IOException | RuntimeException e) {
      return new Reading(total, Map.of());
    }
    return new Reading(total, foreign);
  }
}
