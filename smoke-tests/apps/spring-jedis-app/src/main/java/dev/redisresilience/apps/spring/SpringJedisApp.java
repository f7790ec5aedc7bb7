package dev.redisresilience.apps.spring;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.CommandLineRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.data.redis.core.StringRedisTemplate;

/**
 * A Spring Boot application using spring-boot-starter-data-redis (jedis) through
 * StringRedisTemplate, run as an executable fat jar. Six operations: SET, GET, INCR, DEL, HSET,
 * HGET. Args: --spring.data.redis.port=N
 *
 * <p>With {@code -Dapp.incr.count=N}: instead, N INCRs from 4 threads, one key per call
 * ({@code spring:incr:i}), one line per call ({@code INCR i OK reply} / {@code INCR i FAIL
 * exception}), so a test can check each against the server while connections are killed (the
 * same load as the Lettuce app's).
 */
@SpringBootApplication
public class SpringJedisApp implements CommandLineRunner {
  @Autowired private StringRedisTemplate redis;

  public static void main(String[] args) {
    SpringApplication app = new SpringApplication(SpringJedisApp.class);
    app.setBannerMode(org.springframework.boot.Banner.Mode.OFF);
    System.exit(SpringApplication.exit(app.run(args)));
  }

  @Override
  public void run(String... args) throws InterruptedException {
    int incrs = Integer.getInteger("app.incr.count", 0);
    if (incrs > 0) {
      incrs(incrs, 4);
      return;
    }
    redis.opsForValue().set("spring:key", "v"); // SET
    System.out.println("RESULT get=" + redis.opsForValue().get("spring:key")); // GET
    System.out.println("RESULT incr=" + redis.opsForValue().increment("spring:counter")); // INCR
    System.out.println("RESULT del=" + redis.delete("spring:key")); // DEL
    redis.opsForHash().put("spring:hash", "f", "h"); // HSET
    System.out.println("RESULT hget=" + redis.opsForHash().get("spring:hash", "f")); // HGET
    System.out.println("RESULT client=" + redis.getConnectionFactory().getClass().getSimpleName());
    System.out.println("RESULT done");
  }

  /** {@code n} INCRs from {@code threads} threads, bounded by 120 s. */
  private void incrs(int n, int threads) throws InterruptedException {
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
    Thread[] ts = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      ts[t] = new Thread(() -> {
        int i;
        while ((i = next.incrementAndGet()) <= n && System.nanoTime() < end) {
          String line;
          try {
            line = "INCR " + i + " OK " + redis.opsForValue().increment("spring:incr:" + i);
          } catch (RuntimeException e) {
            line = "INCR " + i + " FAIL " + e.getClass().getName();
          }
          synchronized (System.out) {
            System.out.println(line);
          }
        }
      }, "incr-" + t);
      ts[t].start();
    }
    for (Thread t : ts) {
      t.join(130_000);
    }
    System.out.println("RESULT done");
  }
}
