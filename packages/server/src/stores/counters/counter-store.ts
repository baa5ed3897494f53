/**
 * Rate-limit counters (`security/rate-limits.ts`): fixed windows that start at their first hit.
 * Where they live decides who shares them: process memory on SQLite (per instance), the
 * PostgreSQL store, or Redis (every instance).
 */
export interface CounterStore {
  /** Counts one event in the window of `key`, starting a window of `windowMs` if none is open. */
  hit(key: string, windowMs: number, now: number): Promise<Counter>;
  /** The open window of `key`, if any, without counting. */
  peek(key: string, now: number): Promise<Counter | null>;
  /** Ends the window of `key` (a successful login ends its failures' count). */
  clear(key: string): Promise<void>;
}

export interface Counter {
  count: number;
  resetAt: number;
}
