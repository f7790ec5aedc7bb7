package dev.redisresilience.apps.ownotel;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.concurrent.TimeUnit;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.implementation.FixedValue;
import net.bytebuddy.matcher.ElementMatchers;
import redis.clients.jedis.Jedis;

/**
 * An application that runs its own OpenTelemetry SDK (another version than the agent's, exporting
 * over OTLP with its own OkHttp) and its own ByteBuddy. With the agent attached, all three must
 * keep working exactly as without it. Args: redis-port, own-otlp-endpoint.
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
    Span span = tracer.spanBuilder("app-own-work").startSpan();
    try (Scope ignored = span.makeCurrent();
        Jedis jedis = new Jedis("127.0.0.1", port)) {
      // 3. Redis, inside the app's own span
      jedis.set("own:key", "own-value");
      System.out.println("RESULT get=" + jedis.get("own:key"));
      System.out.println("RESULT app-span-valid=" + Span.current().getSpanContext().isValid());
    } finally {
      span.end();
    }
    sdk.getSdkTracerProvider().forceFlush().join(10, TimeUnit.SECONDS);
    sdk.close();
    System.out.println("RESULT done");
  }
}
