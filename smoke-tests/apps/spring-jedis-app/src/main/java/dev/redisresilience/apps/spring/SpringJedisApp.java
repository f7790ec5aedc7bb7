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
  public void run(String... args) {
    redis.opsForValue().set("spring:key", "v"); // SET
    System.out.println("RESULT get=" + redis.opsForValue().get("spring:key")); // GET
    System.out.println("RESULT incr=" + redis.opsForValue().increment("spring:counter")); // INCR
    System.out.println("RESULT del=" + redis.delete("spring:key")); // DEL
    redis.opsForHash().put("spring:hash", "f", "h"); // HSET
    System.out.println("RESULT hget=" + redis.opsForHash().get("spring:hash", "f")); // HGET
    System.out.println("RESULT client=" + redis.getConnectionFactory().getClass().getSimpleName());
    System.out.println("RESULT done");
  }
}
