package dev.redisresilience.agent.instrumentation.lettuce;

import dev.redisresilience.agent.bootstrap.StateHolder;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandWrapper;
import io.lettuce.core.protocol.RedisCommand;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.util.Optional;

/**
 * A new command for the next attempt of a call: same type and arguments, a new, empty output of
 * the same class (the failed attempt's output may hold an error or a partial reply, and the old
 * command may still be on a channel's stack). Only for plain commands whose output is made from
 * the codec alone — one public constructor, taking the codec (GET's ValueOutput, INCR's
 * IntegerOutput ...): outputs that may need more (streaming channels, MGET's and HMGET's key
 * lists) are not renewed, and those calls are not retried by the agent.
 * Injected next to Lettuce.
 */
final class LettuceFreshCommands {
  private LettuceFreshCommands() {}

  /** CommandOutput.codec: protected, read to build an output like the original. */
  private static final Field CODEC = codecField();

  private static final ClassValue<Optional<Constructor<?>>> CODEC_CONSTRUCTORS =
      new ClassValue<Optional<Constructor<?>>>() {
        @Override
        protected Optional<Constructor<?>> computeValue(Class<?> type) {
          try {
            // the codec must be all it takes: an output with other constructors may have been
            // built with more (KeyValueListOutput's keys for MGET / HMGET), which a renewed one
            // would lack and answer wrongly
            if (type.getConstructors().length != 1) {
              return Optional.empty();
            }
            return Optional.of(type.getConstructor(RedisCodec.class));
          } catch (NoSuchMethodException | SecurityException e) {
            return Optional.empty();
          }
        }
      };

  /** True when {@link #next} can build the next attempt of {@code command}. */
  static boolean renewable(RedisCommand<?, ?, ?> command) {
    RedisCommand<?, ?, ?> raw = CommandWrapper.unwrap(command);
    if (CODEC == null || raw == null || raw.getClass() != Command.class) {
      return false;
    }
    CommandOutput<?, ?, ?> out = raw.getOutput();
    return out != null && CODEC_CONSTRUCTORS.get(out.getClass()).isPresent();
  }

  /**
   * The next attempt of {@code call}, whose dispatched command is {@code original}: an async
   * command whose raw command carries the call (so the dispatch advice does not start another
   * operation, and the write and timeout advice find it). Null when it cannot be built.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static AsyncCommand<Object, Object, Object> next(LettuceCall call, RedisCommand<?, ?, ?> original) {
    try {
      RedisCommand<?, ?, ?> raw = CommandWrapper.unwrap(original);
      CommandOutput<?, ?, ?> out = raw.getOutput();
      Constructor<?> c = CODEC_CONSTRUCTORS.get(out.getClass()).orElse(null);
      if (c == null || CODEC == null) {
        return null;
      }
      CommandOutput fresh = (CommandOutput) c.newInstance(CODEC.get(out));
      Command command = new Command(raw.getType(), fresh, raw.getArgs());
      ((StateHolder) command).__rraSetState(call);
      return new AsyncCommand<>(command);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  private static Field codecField() {
    try {
      Field f = CommandOutput.class.getDeclaredField("codec");
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null; // a Lettuce without the field, or in a module that does not open it
    }
  }
}
