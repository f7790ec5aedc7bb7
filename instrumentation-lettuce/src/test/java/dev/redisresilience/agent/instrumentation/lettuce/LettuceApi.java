package dev.redisresilience.agent.instrumentation.lettuce;

import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The three Lettuce APIs the application may call, one scenario written once for all: every
 * call is started without waiting (sync ones on the caller's thread, so they complete before
 * {@link #call} returns) and completes exactly once with the command's outcome.
 */
enum LettuceApi {
  SYNC,
  ASYNC,
  REACTIVE;

  static final Duration WAIT = Duration.ofSeconds(30);

  CompletableFuture<Long> incr(StatefulRedisConnection<String, String> c, String key) {
    return call(
        () -> c.sync().incr(key), () -> c.async().incr(key), () -> c.reactive().incr(key).toFuture());
  }

  CompletableFuture<String> get(StatefulRedisConnection<String, String> c, String key) {
    return call(() -> c.sync().get(key), () -> c.async().get(key), () -> c.reactive().get(key).toFuture());
  }

  private <T> CompletableFuture<T> call(
      java.util.function.Supplier<T> sync,
      java.util.function.Supplier<CompletionStage<T>> async,
      java.util.function.Supplier<CompletableFuture<T>> reactive) {
    switch (this) {
      case SYNC:
        try {
          return CompletableFuture.completedFuture(sync.get());
        } catch (RuntimeException e) {
          return CompletableFuture.failedFuture(e);
        }
      case ASYNC:
        return async.get().toCompletableFuture();
      default:
        return reactive.get();
    }
  }
}
