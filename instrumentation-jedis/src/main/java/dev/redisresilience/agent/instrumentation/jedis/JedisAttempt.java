package dev.redisresilience.agent.instrumentation.jedis;

/**
 * What the exit advice of one attempt needs from its enter advice (returned by the enter
 * advice, never kept in a ThreadLocal). Bootstrap side: public for the injected helper.
 */
public final class JedisAttempt {
  // not final: the thread's reusable attempt is started over (JedisFrame)
  public JedisCall call;
  /** This attempt started the call (legacy Jedis): it ends it too. */
  public boolean owner;
  public JedisConnState state;
  /** The thread whose reusable attempt this is (null: one of its own). */
  JedisFrame frame;
  /** The read timeout of this attempt, or -1 when it uses the connection's own. */
  public long readTimeoutMillis = -1;
  /** The connection's blocking timeout before this attempt changed it. */
  public int previousInfinite;
  /** The attempt raised the socket's timeout itself and must roll it back. */
  public boolean rollback;
  /**
   * Set when the connection could not be made fit for this attempt (its replacement failed, or
   * it lost session state): the command is not sent and the attempt fails with this instead.
   */
  public Throwable refused;

  public JedisAttempt(JedisCall call, boolean owner, JedisConnState state) {
    this.call = call;
    this.owner = owner;
    this.state = state;
  }

  void restart(JedisCall call, boolean owner, JedisConnState state) {
    this.call = call;
    this.owner = owner;
    this.state = state;
    this.readTimeoutMillis = -1;
    this.previousInfinite = 0;
    this.rollback = false;
    this.refused = null;
  }
}
