package dev.redisresilience.apps.ownotel;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.implementation.FixedValue;
import net.bytebuddy.matcher.ElementMatchers;
import redis.clients.jedis.Jedis;

/**
 * An application that runs its own OpenTelemetry SDK (another version than the agent's, exporting
 * over OTLP with its own OkHttp) and its own ByteBuddy. With the agent attached, all three must
 * keep working exactly as without it. Its Redis calls (Jedis, and Lettuce async) run inside its own
 * span, so the agent's Redis spans are that span's children; the INCRs run under an unsampled
 * parent (a traceparent with flags 00), so they give no span at all. Args: redis-port,
 * own-otlp-endpoint.
 */
public final class OwnOtelApp {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    String endpoint = args[1];

    // 1. the app's own ByteBuddy
    Class<?> dynamic =
        new ByteBuddy()
            .subclass(Object.class)
            .method(ElementMatchers.named("toString"))
            .intercept(FixedValue.value("made by the app's own ByteBuddy"))
            .make()
            .load(OwnOtelApp.class.getClassLoader())
            .getLoaded();
    System.out.println("RESULT bytebuddy=" + dynamic.getDeclaredConstructor().newInstance());
    String from = ByteBuddy.class.getProtectionDomain().getCodeSource().getLocation().getPath();
    System.out.println("RESULT bytebuddy-jar=" + from.substring(from.lastIndexOf('/') + 1));

    // 2. the app's own OpenTelemetry SDK, exporting its own span over OTLP
    OpenTelemetrySdk sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .setResource(
                        Resource.getDefault().merge(
                            Resource.create(
                                io.opentelemetry.api.common.Attributes.of(
                                    AttributeKey.stringKey("service.name"), "own-otel-app-itself"))))
                    .addSpanProcessor(
                        SimpleSpanProcessor.create(
                            OtlpHttpSpanExporter.builder()
                                .setEndpoint(endpoint + "/v1/traces")
                                .build()))
                    .build())
            .build();
    Tracer tracer = sdk.getTracer("own-otel-app");
    RedisClient lettuce = RedisClient.create(RedisURI.create("127.0.0.1", port));
    StatefulRedisConnection<String, String> connection = lettuce.connect();
    RedisAsyncCommands<String, String> async = connection.async();
    Span span = tracer.spanBuilder("app-own-work").startSpan();
    RedisFuture<String> lettuceSet;
    RedisFuture<String> lettuceGet;
    try (Jedis jedis = new Jedis("127.0.0.1", port)) {
      try (Scope ignored = span.makeCurrent()) {
        // 3. Redis, inside the app's own span: Jedis, and Lettuce async (dispatched here,
        // completed later on Lettuce's event loop)
        jedis.set("own:key", "own-value");
        System.out.println("RESULT get=" + jedis.get("own:key"));
        System.out.println("RESULT app-span-valid=" + Span.current().getSpanContext().isValid());
        lettuceSet = async.set("own:lettuce", "async-value");
        lettuceGet = async.get("own:lettuce");
      } finally {
        span.end();
      }
      System.out.println("RESULT lettuce-set=" + lettuceSet.get(10, TimeUnit.SECONDS));
      System.out.println("RESULT lettuce-get=" + lettuceGet.get(10, TimeUnit.SECONDS));

      // 4. Redis under a parent that is not sampled (as from "traceparent: 00-...-...-00")
      SpanContext unsampled =
          SpanContext.createFromRemoteParent(
              "4bf92f3577b34da6a3ce929d0e0e4736",
              "00f067aa0ba902b7",
              TraceFlags.getDefault(),
              TraceState.getDefault());
      try (Scope ignored = Context.root().with(Span.wrap(unsampled)).makeCurrent()) {
        jedis.incr("own:unsampled");
        jedis.incr("own:unsampled");
        System.out.println("RESULT unsampled-incr=" + async.incr("own:unsampled").get(10, TimeUnit.SECONDS));
      }
    } finally {
      connection.close();
      lettuce.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    sdk.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS);
    sdk.close();
    System.out.println("RESULT done");
  }
}
