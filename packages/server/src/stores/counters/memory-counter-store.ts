import type { Counter, CounterStore } from './counter-store.ts';

/**
 * Fixed-window counters in process memory, for SQLite, whose rate-limit state is per instance by
 * nature; on disk they would put an fsync on every login attempt. Expired windows are swept as
 * they are touched and in bulk every few thousand hits, so an attacker cycling through keys
 * cannot grow the map without bound.
 */
export class MemoryCounterStore implements CounterStore {
  readonly #windows = new Map<string, Counter>();
  #hitsSinceSweep = 0;

  async hit(key: string, windowMs: number, now: number): Promise<Counter> {
    if (++this.#hitsSinceSweep >= 4096) this.#sweep(now);
    const existing = this.#windows.get(key);
    if (existing && existing.resetAt > now) {
      existing.count += 1;
      return { ...existing };
    }
    const fresh = { count: 1, resetAt: now + windowMs };
    this.#windows.set(key, fresh);
    return { ...fresh };
  }

  async peek(key: string, now: number): Promise<Counter | null> {
    const existing = this.#windows.get(key);
    return existing && existing.resetAt > now ? { ...existing } : null;
  }

  async clear(key: string): Promise<void> {
    this.#windows.delete(key);
  }

  #sweep(now: number): void {
    this.#hitsSinceSweep = 0;
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
  }
}
