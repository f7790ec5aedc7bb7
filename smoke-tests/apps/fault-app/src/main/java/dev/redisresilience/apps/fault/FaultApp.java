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
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;

/**
 * The fault suite's application: an ordinary Jedis or Lettuce program that makes scripted calls
 * and prints one line per call (outcome, exception class, duration), so a test can check every
 * call against what the server holds. It has no retry logic of its own.
 *
 * <p>Args: scenario client host:port [more...] where client is legacy | pool | unified | cluster
 * (Jedis) or lettuce-sync | lettuce-async | lettuce-reactive (one shared connection, as Spring
 * Boot uses it). Scenarios: incr N prefix | get N prefix | blpop seconds | load seconds threads
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
        c.cmd().get("fault:warm-up");
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
        Throwable t = e instanceof AsyncFailure ? e.getCause() : e;
        String msg = String.valueOf(t.getMessage()).split("\n")[0];
        System.out.println("CALL " + i + " FAIL " + ms(t0) + " " + t.getClass().getName() + " " + msg);
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

  /** The commands the scenarios make, whatever the client. */
  interface Ops {
    Object incr(String key);

    Object get(String key);

    Object set(String key, String value);

    Object blpop(int seconds, String key);
  }

  /** A Jedis client's commands. */
  static Ops jedis(JedisCommands j) {
    return new Ops() {
      public Object incr(String key) {
        return j.incr(key);
      }

      public Object get(String key) {
        return j.get(key);
      }

      public Object set(String key, String value) {
        return j.set(key, value);
      }

      public Object blpop(int seconds, String key) {
        return j.blpop(seconds, key);
      }
    };
  }

  /**
   * A Lettuce connection's commands through one of its APIs; an async or reactive call is
   * awaited by the app for at most 30 s, so that the agent's own bounds are what shows.
   */
  static Ops lettuce(StatefulRedisConnection<String, String> conn, String api) {
    switch (api) {
      case "sync":
        return new Ops() {
          public Object incr(String key) {
            return conn.sync().incr(key);
          }

          public Object get(String key) {
            return conn.sync().get(key);
          }

          public Object set(String key, String value) {
            return conn.sync().set(key, value);
          }

          public Object blpop(int seconds, String key) {
            return conn.sync().blpop(seconds, key);
          }
        };
      case "async":
        return new Ops() {
          public Object incr(String key) {
            return await(conn.async().incr(key).toCompletableFuture());
          }

          public Object get(String key) {
            return await(conn.async().get(key).toCompletableFuture());
          }

          public Object set(String key, String value) {
            return await(conn.async().set(key, value).toCompletableFuture());
          }

          public Object blpop(int seconds, String key) {
            return await(conn.async().blpop(seconds, key).toCompletableFuture());
          }
        };
      case "reactive":
        return new Ops() {
          public Object incr(String key) {
            return await(conn.reactive().incr(key).toFuture());
          }

          public Object get(String key) {
            return await(conn.reactive().get(key).toFuture());
          }

          public Object set(String key, String value) {
            return await(conn.reactive().set(key, value).toFuture());
          }

          public Object blpop(int seconds, String key) {
            return await(conn.reactive().blpop(seconds, key).toFuture());
          }
        };
      default:
        throw new IllegalArgumentException(api);
    }
  }

  /** Waits like an ordinary async app: a failure surfaces as the command's own exception. */
  static Object await(java.util.concurrent.CompletableFuture<?> f) {
    try {
      return f.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof RuntimeException ? (RuntimeException) cause : new AsyncFailure(cause);
    } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("no outcome within 30 s", e);
    }
  }

  /** A checked exception an async command failed with, reported as itself. */
  static final class AsyncFailure extends RuntimeException {
    AsyncFailure(Throwable cause) {
      super(cause);
    }
  }

  /** The ways a Jedis or Lettuce app talks to Redis. */
  abstract static class Client implements AutoCloseable {
    abstract Ops cmd();

    @Override
    public abstract void close();

    static Client open(String kind, HostAndPort hp, int timeout) {
      switch (kind) {
        case "legacy": {
          Jedis j = new Jedis(hp.getHost(), hp.getPort(), timeout);
          Ops ops = jedis(j);
          return new Client() {
            Ops cmd() {
              return ops;
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
          Ops ops = jedis(pooled(pool));
          return new Client() {
            Ops cmd() {
              return ops;
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
          Ops ops = jedis(u);
          return new Client() {
            Ops cmd() {
              return ops;
            }

            public void close() {
              u.close();
            }
          };
        }
        case "cluster": {
          Set<HostAndPort> seeds = new HashSet<>(List.of(hp));
          JedisCluster jc = new JedisCluster(seeds, timeout);
          Ops ops = jedis(jc);
          return new Client() {
            Ops cmd() {
              return ops;
            }

            public void close() {
              jc.close();
            }
          };
        }
        case "lettuce-sync":
        case "lettuce-async":
        case "lettuce-reactive": {
          io.lettuce.core.RedisClient lc =
              io.lettuce.core.RedisClient.create(
                  RedisURI.builder().withHost(hp.getHost()).withPort(hp.getPort())
                      .withTimeout(java.time.Duration.ofMillis(timeout)).build());
          StatefulRedisConnection<String, String> conn = lc.connect();
          Ops ops = lettuce(conn, kind.substring("lettuce-".length()));
          return new Client() {
            Ops cmd() {
              return ops;
            }

            public void close() {
              conn.close();
              lc.shutdown(java.time.Duration.ZERO, java.time.Duration.ofSeconds(2));
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
