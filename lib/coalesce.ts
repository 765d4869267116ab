/**
 * Identical reads asked within a short window share one answer: the first caller's `load` runs,
 * every caller with the same key until `windowMs` after it settled gets the same promise. A
 * failure is shared by the callers that were waiting on it, then forgotten (the next caller
 * tries again), so a host that was down one moment is asked afresh the next.
 *
 * Why: a burst of 1000 `status web production` must cost one read of the database and the hosts,
 * not 1000 (issue 14 item 4). The window is short enough that nobody reads a stale answer
 * for long, and a change a person made (a deploy) shows within `windowMs`.
 */
export class Coalescer<V> {
  private readonly entries = new Map<string, { value: Promise<V>; expires: number }>();
  private loads = 0;

  /**
   * @param windowMs how long a settled answer is shared, in ms (0: only while in flight).
   * @param now clock in ms (tests pass their own).
   */
  constructor(
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The shared answer for `key`, calling `load` only when none is in flight or fresh. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const t = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > t) return hit.value;
    if (hit) this.entries.delete(key);
    if (this.entries.size > 1000) this.sweep(t);
    this.loads++;
    const entry = { value: Promise.resolve().then(load), expires: Number.POSITIVE_INFINITY };
    this.entries.set(key, entry);
    entry.value.then(
      () => {
        entry.expires = this.now() + this.windowMs;
        if (this.windowMs <= 0 && this.entries.get(key) === entry) this.entries.delete(key);
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.value;
  }

  /** Forgets every answer (in-flight loads still settle for their callers). */
  clear(): void {
    this.entries.clear();
  }

  /** How many times `load` ran (what coalescing saved is calls minus loads). */
  get loadCount(): number {
    return this.loads;
  }

  /** Keys held now (in flight or fresh). */
  get size(): number {
    return this.entries.size;
  }

  private sweep(t: number): void {
    for (const [k, e] of this.entries) if (e.expires <= t) this.entries.delete(k);
  }
}
