package dev.redisresilience.agent.core;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * One instance per key (a server's budget and outage state, an endpoint's cached attributes),
 * shared by every caller, in bounded memory however many keys come and go (IP churn, DNS changes,
 * handoffs to new nodes).
 *
 * <p>Why not a plain LRU: evicting an entry that a live connection still holds would give the
 * next connection to the same server a second instance (two retry budgets, two outage states for
 * one server). Why not weak values alone: a server whose connections were all closed during an
 * outage would forget the outage before the reconnect that ends it. So both:
 *
 * <ul>
 *   <li>the map holds instances weakly: while anyone holds an instance (a connection's state, an
 *       operation in progress), every lookup of its key returns that same instance, evicted from
 *       the recent set or not; this is never split;
 *   <li>the {@code recentCapacity} most recently looked-up keys are also held strongly, so an idle
 *       server keeps its state for as long as it is among them.
 * </ul>
 *
 * Memory is bounded by the recent capacity plus what live connections hold anyway. Lookups are for
 * a new connection or a changed endpoint, never per command: the lock on the recent set is off the
 * hot path.
 */
public final class SharedInstances<K, V> {
  private final ConcurrentHashMap<K, Ref<K, V>> live = new ConcurrentHashMap<>();
  private final ReferenceQueue<V> cleared = new ReferenceQueue<>();
  private final Map<K, V> recent;

  public SharedInstances(int recentCapacity) {
    if (recentCapacity < 1) {
      throw new IllegalArgumentException("recentCapacity must be at least 1: " + recentCapacity);
    }
    this.recent =
        new LinkedHashMap<K, V>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
            return size() > recentCapacity;
          }
        };
  }

  /** The instance for {@code key}, made by {@code create} if no one holds one. */
  public V get(K key, Function<? super K, ? extends V> create) {
    purge();
    Ref<K, V> ref = live.get(key);
    V v = ref == null ? null : ref.get();
    if (v == null) {
      Object[] made = new Object[1]; // strong until returned: the map only holds it weakly
      live.compute(
          key,
          (k, old) -> {
            V existing = old == null ? null : old.get();
            if (existing != null) {
              made[0] = existing;
              return old;
            }
            V fresh = create.apply(k);
            made[0] = fresh;
            return new Ref<>(k, fresh, cleared);
          });
      @SuppressWarnings("unchecked")
      V found = (V) made[0];
      v = found;
    }
    synchronized (recent) {
      recent.put(key, v);
    }
    return v;
  }

  /** Keys with an instance someone may still hold (after the collector cleared the others). */
  public int size() {
    purge();
    return live.size();
  }

  /** Keys held strongly because they were looked up recently; at most the recent capacity. */
  public int recentSize() {
    synchronized (recent) {
      return recent.size();
    }
  }

  private void purge() {
    for (Object r; (r = cleared.poll()) != null; ) {
      @SuppressWarnings("unchecked")
      Ref<K, V> ref = (Ref<K, V>) r;
      live.remove(ref.key, ref); // unless the key has a newer instance already
    }
  }

  private static final class Ref<K, V> extends WeakReference<V> {
    final K key;

    Ref(K key, V value, ReferenceQueue<V> queue) {
      super(value, queue);
      this.key = key;
    }
  }
}
