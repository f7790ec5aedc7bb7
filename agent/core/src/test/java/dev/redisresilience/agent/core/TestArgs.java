package dev.redisresilience.agent.core;

import java.nio.charset.StandardCharsets;

/** An {@link ArgView} over strings, for tests. */
final class TestArgs implements ArgView {
  private final byte[][] args;

  private TestArgs(byte[][] args) {
    this.args = args;
  }

  static TestArgs of(String... args) {
    byte[][] b = new byte[args.length][];
    for (int i = 0; i < args.length; i++) {
      b[i] = args[i].getBytes(StandardCharsets.UTF_8);
    }
    return new TestArgs(b);
  }

  static TestArgs raw(byte[]... args) {
    return new TestArgs(args);
  }

  @Override
  public int count() {
    return args.length;
  }

  @Override
  public byte[] arg(int i) {
    return args[i];
  }
}
