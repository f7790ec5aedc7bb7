package dev.redisresilience.agent.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FailureTest {
  @Test
  void statusCodeIsTheFirstUpperCaseWordOfAServerError() {
    assertThat(Failure.statusCodeOf("ERR unknown command 'FOO'")).isEqualTo("ERR");
    assertThat(Failure.statusCodeOf("WRONGTYPE Operation against a key")).isEqualTo("WRONGTYPE");
    assertThat(Failure.statusCodeOf("LOADING Redis is loading the dataset in memory"))
        .isEqualTo("LOADING");
    assertThat(Failure.statusCodeOf("MOVED 3999 127.0.0.1:6381")).isEqualTo("MOVED");
    assertThat(Failure.statusCodeOf("NOAUTH Authentication required.")).isEqualTo("NOAUTH");
    assertThat(Failure.statusCodeOf("CLUSTERDOWN")).isEqualTo("CLUSTERDOWN");
    // client-side messages are not server errors
    assertThat(Failure.statusCodeOf("Cannot use Jedis when in Pipeline")).isNull();
    assertThat(Failure.statusCodeOf("Unexpected end of stream.")).isNull();
    assertThat(Failure.statusCodeOf("")).isNull();
    assertThat(Failure.statusCodeOf(null)).isNull();
  }

  @Test
  void errorTypes() {
    assertThat(Failure.server("WRONGTYPE", null).errorType()).isEqualTo("WRONGTYPE");
    assertThat(Failure.server("WRONGTYPE", null).statusCode()).isEqualTo("WRONGTYPE");
    assertThat(Failure.timeout(Failure.Phase.MAYBE_SENT, null).errorType()).isEqualTo("timeout");
    assertThat(Failure.connection(Failure.Phase.NOT_SENT, null).errorType())
        .isEqualTo("connection");
    assertThat(Failure.connection(Failure.Phase.NOT_SENT, null).statusCode()).isNull();
    // a command the agent did not let the client re-send: it may or may not have run
    assertThat(Failure.outcomeUnknown(null).errorType()).isEqualTo("outcome_unknown");
    assertThat(Failure.outcomeUnknown(null).outcomeUnknown()).isTrue();
    assertThat(Failure.watchAborted().errorType()).isEqualTo("watch_aborted");
    assertThat(Failure.watchAborted().outcomeUnknown()).isFalse();
    assertThat(Failure.other(new IllegalStateException()).errorType())
        .isEqualTo("java.lang.IllegalStateException");
  }
}
