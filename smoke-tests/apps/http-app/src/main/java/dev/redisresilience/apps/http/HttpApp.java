package dev.redisresilience.apps.http;

import com.sun.net.httpserver.HttpServer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPool;

/**
 * A web app in miniature: one HTTP endpoint (the JDK's HttpServer) whose handler calls Redis
 * through Jedis and through Lettuce async, dispatched on the request thread. It calls its own
 * endpoint once and exits. No OpenTelemetry code: under the OpenTelemetry Java agent, the HTTP
 * server span is the agent's. Args: redis-port.
 */
public final class HttpApp {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    RedisClient lettuce = RedisClient.create(RedisURI.create("127.0.0.1", port));
    StatefulRedisConnection<String, String> connection = lettuce.connect();
    JedisPool pool = new JedisPool("127.0.0.1", port);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/checkout",
        exchange -> {
          String body;
          int status = 200;
          try (Jedis jedis = pool.getResource()) {
            jedis.set("http:jedis", "j");
            String j = jedis.get("http:jedis");
            RedisFuture<String> set = connection.async().set("http:lettuce", "l");
            RedisFuture<String> get = connection.async().get("http:lettuce");
            body = j + "," + set.get(10, TimeUnit.SECONDS) + "," + get.get(10, TimeUnit.SECONDS);
          } catch (Exception e) {
            status = 500;
            body = e.toString();
          }
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(status, bytes.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          }
        });
    server.start();
    try {
      URL url = new URL("http://127.0.0.1:" + server.getAddress().getPort() + "/checkout");
      HttpURLConnection c = (HttpURLConnection) url.openConnection();
      c.setConnectTimeout(10_000);
      c.setReadTimeout(30_000);
      System.out.println("RESULT status=" + c.getResponseCode());
      try (InputStream in = c.getInputStream()) {
        System.out.println("RESULT body=" + new String(in.readAllBytes(), StandardCharsets.UTF_8));
      } catch (IOException e) {
        System.out.println("RESULT body-error=" + e);
      }
    } finally {
      server.stop(0);
      pool.close();
      connection.close();
      lettuce.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    System.out.println("RESULT done");
  }
}
