package dev.redisresilience.agent.telemetry.http;

import io.opentelemetry.sdk.common.export.HttpSender;
import io.opentelemetry.sdk.common.export.HttpSenderConfig;
import io.opentelemetry.sdk.common.export.HttpSenderProvider;

/**
 * The HttpSenderProvider the agent jar registers: every OTLP http exporter the SDK builds (spans,
 * metrics, logs; http/protobuf and http/json) sends through {@link OtlpHttpSender}. gRPC keeps
 * OpenTelemetry's OkHttp sender.
 */
public final class OtlpHttpSenderProvider implements HttpSenderProvider {
  @Override
  public HttpSender createSender(HttpSenderConfig config) {
    return new OtlpHttpSender(config);
  }
}
