import type { Counter } from './store.ts';

/**
 * Fixed-window counters in process memory, for stores whose rate-limit state is per instance.
 * Expired windows are swept as they are touched and in bulk every few thousand hits, so an
 * attacker cycling through keys cannot grow the map without bound.
 */
export class MemoryCounters {
  readonly #windows = new Map<string, Counter>();
  #hitsSinceSweep = 0;

  hit(key: string, windowMs: number, now: number): Counter {
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

  peek(key: string, now: number): Counter | null {
    const existing = this.#windows.get(key);
    return existing && existing.resetAt > now ? { ...existing } : null;
  }

  clear(key: string): void {
    this.#windows.delete(key);
  }

  #sweep(now: number): void {
    this.#hitsSinceSweep = 0;
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
  }
}
