package dev.redisresilience.apps.fault;

import java.lang.management.ManagementFactory;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisCluster;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.JedisPoolConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.commands.JedisCommands;

/**
 * The fault suite's application: an ordinary Jedis program that makes scripted calls and prints
 * one line per call (outcome, exception class, duration), so a test can check every call against
 * what the server holds. It has no retry logic of its own.
 *
 * <p>Args: scenario client host:port [more...] where client is legacy | pool | unified | cluster.
 * Scenarios: incr N prefix | get N prefix | blpop seconds | load seconds threads
 */
public final class FaultApp {
  public static void main(String[] args) throws Exception {
    String scenario = args[0];
    String client = args[1];
    HostAndPort hp = HostAndPort.from(args[2]);
    int timeout = Integer.parseInt(System.getProperty("app.timeout.ms", "2000"));
    long readyPause = Long.getLong("app.ready.pause.ms", 0);
    try (Client c = Client.open(client, hp, timeout)) {
      if (readyPause > 0) {
        // connected and warmed up; the test may now change the network under us
        c.cmd().exists("fault:warm-up");
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(readyPause);
      }
      switch (scenario) {
        case "incr":
          calls(c, Integer.parseInt(args[3]), i -> c.cmd().incr(args[4] + ":" + i));
          break;
        case "get":
          calls(c, Integer.parseInt(args[3]), i -> c.cmd().get(args[4] + ":" + i));
          break;
        case "blpop":
          calls(c, 1, i -> c.cmd().blpop(Integer.parseInt(args[3]), "fault:blpop"));
          break;
        case "load":
          load(c, Integer.parseInt(args[3]), Integer.parseInt(args[4]));
          break;
        default:
          throw new IllegalArgumentException(scenario);
      }
    }
    System.out.println("DONE");
  }

  static void calls(Client c, int n, Function<Integer, Object> call) {
    for (int i = 1; i <= n; i++) {
      long t0 = System.nanoTime();
      try {
        Object r = call.apply(i);
        System.out.println("CALL " + i + " OK " + ms(t0) + " " + r);
      } catch (RuntimeException e) {
        String msg = String.valueOf(e.getMessage()).split("\n")[0];
        System.out.println("CALL " + i + " FAIL " + ms(t0) + " " + e.getClass().getName() + " " + msg);
      }
    }
  }

  /** Continuous GET/SET from {@code threads} threads; a line per second; bounded by time. */
  static void load(Client c, int seconds, int threads) throws InterruptedException {
    AtomicLong ok = new AtomicLong();
    AtomicLong fail = new AtomicLong();
    AtomicLong maxCallMs = new AtomicLong();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    Thread[] ts = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      final int id = t;
      ts[t] = new Thread(() -> {
        long n = 0;
        while (System.nanoTime() < end) {
          long t0 = System.nanoTime();
          try {
            if (n++ % 2 == 0) {
              c.cmd().set("fault:load:" + id, "v" + n);
            } else {
              c.cmd().get("fault:load:" + id);
            }
            ok.incrementAndGet();
          } catch (RuntimeException e) {
            fail.incrementAndGet();
            pause(20); // an ordinary app would not spin on errors
          }
          maxCallMs.accumulateAndGet((System.nanoTime() - t0) / 1_000_000, Math::max);
        }
      }, "load-" + t);
      ts[t].start();
    }
    int peakThreads = 0;
    String peakNames = "";
    long lastOk = 0;
    long lastFail = 0;
    for (int s = 1; s <= seconds; s++) {
      Thread.sleep(1000);
      int live = ManagementFactory.getThreadMXBean().getThreadCount();
      if (live > peakThreads) {
        peakThreads = live;
        peakNames = threadNames();
      }
      long o = ok.get();
      long f = fail.get();
      System.out.println("TICK " + s + " ok=" + (o - lastOk) + " fail=" + (f - lastFail) + " threads=" + live);
      lastOk = o;
      lastFail = f;
    }
    for (Thread t : ts) {
      t.join(TimeUnit.SECONDS.toMillis(30));
    }
    System.out.println("LOAD ok=" + ok.get() + " fail=" + fail.get() + " maxCallMs=" + maxCallMs.get()
        + " peakThreads=" + peakThreads);
    System.out.println("THREADS at peak: " + peakNames);
  }

  static String threadNames() {
    java.util.TreeMap<String, Integer> names = new java.util.TreeMap<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      names.merge(t.getName().replaceAll("[0-9]+", "#"), 1, Integer::sum);
    }
    return names.toString();
  }

  static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The four ways a Jedis app talks to Redis. */
  abstract static class Client implements AutoCloseable {
    abstract JedisCommands cmd();

    @Override
    public abstract void close();

    static Client open(String kind, HostAndPort hp, int timeout) {
      switch (kind) {
        case "legacy": {
          Jedis j = new Jedis(hp.getHost(), hp.getPort(), timeout);
          return new Client() {
            JedisCommands cmd() {
              return j;
            }

            public void close() {
              j.close();
            }
          };
        }
        case "pool": {
          JedisPoolConfig cfg = new JedisPoolConfig();
          cfg.setMaxTotal(16);
          JedisPool pool = new JedisPool(cfg, hp.getHost(), hp.getPort(), timeout);
          return new Client() {
            JedisCommands cmd() {
              return pooled(pool);
            }

            public void close() {
              pool.close();
            }
          };
        }
        case "unified": {
          UnifiedJedis u = RedisClient.builder().hostAndPort(hp)
              .clientConfig(redis.clients.jedis.DefaultJedisClientConfig.builder().timeoutMillis(timeout).build())
              .build();
          return new Client() {
            JedisCommands cmd() {
              return u;
            }

            public void close() {
              u.close();
            }
          };
        }
        case "cluster": {
          Set<HostAndPort> seeds = new HashSet<>(List.of(hp));
          JedisCluster jc = new JedisCluster(seeds, timeout);
          return new Client() {
            JedisCommands cmd() {
              return jc;
            }

            public void close() {
              jc.close();
            }
          };
        }
        default:
          throw new IllegalArgumentException(kind);
      }
    }

    /** A JedisCommands view that borrows a pooled connection per call, like real code does. */
    static JedisCommands pooled(JedisPool pool) {
      return (JedisCommands) java.lang.reflect.Proxy.newProxyInstance(
          FaultApp.class.getClassLoader(),
          new Class<?>[] {JedisCommands.class},
          (proxy, method, margs) -> {
            try (Jedis j = pool.getResource()) {
              return method.invoke(j, margs);
            } catch (java.lang.reflect.InvocationTargetException e) {
              throw e.getCause();
            }
          });
    }
  }
}
