package dev.redisresilience.apps.demo;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.JedisPoolConfig;
import redis.clients.jedis.RedisProtocol;

/**
 * The demo's application: an ordinary service doing Redis work with Jedis (a pool, two threads)
 * and Lettuce (async), with a few failing commands mixed in. It knows nothing about the agent.
 * It keeps going through server outages, the way a real service must.
 * Args: host port seconds opsPerSecondPerWorker.
 */
public final class DemoApp {
  static final AtomicLong ok = new AtomicLong();
  static final AtomicLong failed = new AtomicLong();

  public static void main(String[] args) throws Exception {
    String host = args[0];
    int port = Integer.parseInt(args[1]);
    long seconds = Long.parseLong(args[2]);
    int rate = Integer.parseInt(args[3]);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);

    JedisPoolConfig cfg = new JedisPoolConfig();
    cfg.setMaxTotal(4);
    // RESP3: the protocol Redis Software's maintenance notifications (Smart Client Handoffs) need
    JedisPool pool = new JedisPool(cfg, new HostAndPort(host, port),
        DefaultJedisClientConfig.builder().timeoutMillis(1000).protocol(RedisProtocol.RESP3).build());
    RedisClient lettuce = RedisClient.create(RedisURI.builder().withHost(host).withPort(port)
        .withTimeout(Duration.ofSeconds(1)).build());

    Thread[] workers = {
      new Thread(() -> jedisWorker(pool, end, rate, 0), "jedis-worker-0"),
      new Thread(() -> jedisWorker(pool, end, rate, 1), "jedis-worker-1"),
      new Thread(() -> lettuceWorker(lettuce, end, rate), "lettuce-worker"),
    };
    for (Thread t : workers) {
      t.start();
    }
    for (Thread t : workers) {
      t.join();
    }
    pool.close();
    lettuce.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    System.out.println("demo-app: " + ok.get() + " calls succeeded, " + failed.get() + " failed");
  }

  static void jedisWorker(JedisPool pool, long end, int rate, int id) {
    long n = 0;
    long intervalNanos = 1_000_000_000L / rate;
    long next = System.nanoTime();
    while (System.nanoTime() < end) {
      try (Jedis j = pool.getResource()) {
        String key = "demo:jedis:" + id + ":" + (n % 100);
        switch ((int) (n % 4)) {
          case 0:
            j.set(key, "v" + n);
            break;
          case 1:
            j.get(key);
            break;
          case 2:
            j.incr("demo:counter:" + id);
            break;
          default:
            if (n % 200 == 3) {
              j.hset("demo:hash", "f", "v");
              j.get("demo:hash"); // WRONGTYPE: a bug in this "service"
            } else {
              j.expire(key, 60);
            }
        }
        ok.incrementAndGet();
      } catch (RuntimeException e) {
        failed.incrementAndGet();
        pause(50); // a real service would back off a little too
      }
      n++;
      next += intervalNanos;
      long sleep = next - System.nanoTime();
      if (sleep > 0) {
        pause(sleep / 1_000_000, (int) (sleep % 1_000_000));
      } else if (sleep < -1_000_000_000L) {
        next = System.nanoTime(); // fell far behind (outage): do not burst to catch up
      }
    }
  }

  static void lettuceWorker(RedisClient client, long end, int rate) {
    StatefulRedisConnection<String, String> conn = null;
    long n = 0;
    long intervalNanos = 1_000_000_000L / rate;
    long next = System.nanoTime();
    while (System.nanoTime() < end) {
      try {
        if (conn == null) {
          conn = client.connect();
        }
        RedisAsyncCommands<String, String> async = conn.async();
        String key = "demo:lettuce:" + (n % 100);
        if (n % 2 == 0) {
          async.set(key, "v" + n).get(2, TimeUnit.SECONDS);
        } else {
          async.get(key).get(2, TimeUnit.SECONDS);
        }
        ok.incrementAndGet();
      } catch (Exception e) {
        failed.incrementAndGet();
        pause(50);
      }
      n++;
      next += intervalNanos;
      long sleep = next - System.nanoTime();
      if (sleep > 0) {
        pause(sleep / 1_000_000, (int) (sleep % 1_000_000));
      } else if (sleep < -1_000_000_000L) {
        next = System.nanoTime();
      }
    }
    if (conn != null) {
      conn.close();
    }
  }

  static void pause(long ms) {
    pause(ms, 0);
  }

  static void pause(long ms, int nanos) {
    try {
      Thread.sleep(ms, nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
