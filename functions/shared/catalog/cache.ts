// A bounded, time-limited cache with single-flight: concurrent requests for one key share one load (a batch of ten
// lines for one SKU makes one read), an answer is kept for `ttlMs` from when it arrived, a failed load is not kept
// (the next request tries again), and past `maxEntries` the least recently used entry goes.

interface Entry<T> {
  value: Promise<T>;
  /** The answer, once it arrived: read without awaiting (`peek`). */
  settled?: { value: T };
  /** Epoch ms; Infinity while the load is under way. */
  expiresAt: number;
}

export interface CacheOptions {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

export class SingleFlightCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly now: () => number;

  constructor(private readonly options: CacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The cached value, the load under way, or a new load. */
  get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.fresh(key);
    if (hit) return hit.value;
    const entry: Entry<T> = { value: load(), expiresAt: Number.POSITIVE_INFINITY };
    this.put(key, entry);
    entry.value.then(
      (value) => {
        entry.settled = { value };
        entry.expiresAt = this.now() + this.options.ttlMs;
      },
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return entry.value;
  }

  /** The cached answer when there is a fresh one, without a load and without a promise: the warm path's. */
  peek(key: string): T | undefined {
    return this.fresh(key)?.settled?.value;
  }

  /** Keeps a value learned elsewhere (a SKU listed by a search), unless a fresh one or a load is already there. */
  seed(key: string, value: T): void {
    if (this.fresh(key) || this.options.ttlMs <= 0) return;
    this.put(key, { value: Promise.resolve(value), settled: { value }, expiresAt: this.now() + this.options.ttlMs });
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private fresh(key: string): Entry<T> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used last: eviction takes the first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  private put(key: string, entry: Entry<T>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}
