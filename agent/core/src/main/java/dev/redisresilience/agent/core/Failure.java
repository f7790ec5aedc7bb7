package dev.redisresilience.agent.core;

/**
 * A failed attempt, classified once by the client's helper and then used by policy (retry?) and
 * telemetry ({@code error.type}, {@code db.response.status_code}) alike.
 */
public final class Failure {
  /** The error taxonomy; every failure maps to exactly one kind. */
  public enum Kind {
    /** The server answered with an error reply (-ERR, -WRONGTYPE, -LOADING, -MOVED ...). */
    SERVER,
    /** A connect, read or command timeout. */
    TIMEOUT,
    /** The connection failed: refused, reset, closed, unreachable. */
    CONNECTION,
    /** The caller or the client cancelled the command. */
    CANCELLED,
    /** The agent refused a retry because the retry budget is exhausted. */
    BUDGET_EXHAUSTED,
    /**
     * The connection lost session state the agent cannot restore (WATCH, MULTI, tracking ...): the
     * command was neither re-run elsewhere nor sent on a connection without that state.
     */
    SESSION_STATE_LOST,
    /**
     * A transaction the server did not run because a WATCHed key changed (EXEC answered null):
     * a definite outcome, like redis-py's WatchError; the application decides whether to try again.
     */
    WATCH_ABORTED,
    /** Anything else, e.g. a client-side usage error. */
    OTHER
  }

  /** Where a connection-level failure happened relative to sending the request. */
  public enum Phase {
    /** Proven to have failed before any byte of the request reached the server. */
    NOT_SENT,
    /** The request may have been executed by the server (read timeout, reset while waiting). */
    MAYBE_SENT
  }

  public static final String TYPE_TIMEOUT = "timeout";
  public static final String TYPE_CONNECTION = "connection";
  public static final String TYPE_CANCELLED = "cancelled";
  public static final String TYPE_BUDGET_EXHAUSTED = "agent_budget_exhausted";
  public static final String TYPE_SESSION_STATE_LOST = "session_state_lost";
  /**
   * The connection broke after the command was sent and before its reply: it may have run. Used
   * for the operation's outcome when the agent stopped a client from re-sending it.
   */
  public static final String TYPE_OUTCOME_UNKNOWN = "outcome_unknown";
  public static final String TYPE_WATCH_ABORTED = "watch_aborted";

  private final Kind kind;
  private final Phase phase;
  private final String statusCode;
  private final String errorType;
  private final Throwable cause;
  private final boolean connectFailure;

  private Failure(Kind kind, Phase phase, String statusCode, String errorType, Throwable cause) {
    this(kind, phase, statusCode, errorType, cause, false);
  }

  private Failure(
      Kind kind, Phase phase, String statusCode, String errorType, Throwable cause, boolean connectFailure) {
    this.kind = kind;
    this.phase = phase;
    this.statusCode = statusCode;
    this.errorType = errorType;
    this.cause = cause;
    this.connectFailure = connectFailure;
  }

  /** An error reply; the status code is the reply's first word (ERR, WRONGTYPE, LOADING ...). */
  public static Failure server(String statusCode, Throwable cause) {
    return new Failure(Kind.SERVER, Phase.MAYBE_SENT, statusCode, statusCode, cause);
  }

  public static Failure timeout(Phase phase, Throwable cause) {
    return new Failure(Kind.TIMEOUT, phase, null, TYPE_TIMEOUT, cause);
  }

  public static Failure connection(Phase phase, Throwable cause) {
    return new Failure(Kind.CONNECTION, phase, null, TYPE_CONNECTION, cause);
  }

  /**
   * A new connection to the server could not be made (refused, unreachable, the handshake
   * failed): evidence about the server, unlike an established connection that broke.
   */
  public static Failure connectFailed(Throwable cause) {
    return new Failure(Kind.CONNECTION, Phase.NOT_SENT, null, TYPE_CONNECTION, cause, true);
  }

  /** A connect or handshake that timed out. */
  public static Failure connectTimedOut(Throwable cause) {
    return new Failure(Kind.TIMEOUT, Phase.NOT_SENT, null, TYPE_TIMEOUT, cause, true);
  }

  /**
   * The connection broke while the command was waiting for its reply, and the agent did not let
   * the client re-send it (it is not safe to run twice): the caller cannot know whether it ran.
   */
  public static Failure outcomeUnknown(Throwable cause) {
    return new Failure(Kind.CONNECTION, Phase.MAYBE_SENT, null, TYPE_OUTCOME_UNKNOWN, cause);
  }

  /** EXEC answered null: a WATCHed key changed, so the server ran none of the transaction. */
  public static Failure watchAborted() {
    return new Failure(Kind.WATCH_ABORTED, Phase.MAYBE_SENT, null, TYPE_WATCH_ABORTED, null);
  }

  /** The command was refused, not sent: its connection lost state that cannot be restored. */
  public static Failure sessionStateLost(Throwable cause) {
    return new Failure(Kind.SESSION_STATE_LOST, Phase.NOT_SENT, null, TYPE_SESSION_STATE_LOST, cause);
  }

  public static Failure cancelled(Throwable cause) {
    return new Failure(Kind.CANCELLED, Phase.MAYBE_SENT, null, TYPE_CANCELLED, cause);
  }

  /** Not classifiable: error.type is the exception's class name, as the conventions say. */
  public static Failure other(Throwable cause) {
    return new Failure(
        Kind.OTHER,
        Phase.MAYBE_SENT,
        null,
        cause == null ? "_OTHER" : cause.getClass().getName(),
        cause);
  }

  /**
   * The status code of a Redis error reply: its first word when that word is all upper-case
   * letters (ERR, WRONGTYPE, LOADING, MOVED, CLUSTERDOWN, NOAUTH, WRONGPASS ...); null when the
   * message is not a server error line (client-side messages are not upper-case words).
   */
  public static String statusCodeOf(String message) {
    if (message == null) {
      return null;
    }
    int end = 0;
    int n = message.length();
    while (end < n) {
      char c = message.charAt(end);
      if (c == ' ') {
        break;
      }
      if (!((c >= 'A' && c <= 'Z') || c == '_' || (end > 0 && c >= '0' && c <= '9'))) {
        return null;
      }
      end++;
    }
    return end >= 2 && end <= 32 ? message.substring(0, end) : null;
  }

  public Kind kind() {
    return kind;
  }

  public Phase phase() {
    return phase;
  }

  /** {@code db.response.status_code}; null unless the server answered with an error. */
  public String statusCode() {
    return statusCode;
  }

  /** {@code error.type}. */
  public String errorType() {
    return errorType;
  }

  public Throwable cause() {
    return cause;
  }

  /** True when making a new connection failed (connect or handshake), not an established one. */
  public boolean isConnectFailure() {
    return connectFailure;
  }

  /**
   * True when the server may or may not have executed the command: a connection or timeout
   * failure after the request may have left. A server's error reply is a known outcome.
   */
  public boolean outcomeUnknown() {
    return phase == Phase.MAYBE_SENT
        && (kind == Kind.CONNECTION || kind == Kind.TIMEOUT || kind == Kind.CANCELLED);
  }

  @Override
  public String toString() {
    return errorType + (phase == Phase.NOT_SENT ? " (not sent)" : "");
  }
}
