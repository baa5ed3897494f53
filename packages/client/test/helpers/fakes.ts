import type { Clock, StorageLike } from '../../src/index.ts';

/**
 * The SDK's clock and timers, moved by hand. Two clients given the same instance are two tabs of
 * one machine.
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  constructor(start = Date.UTC(2026, 0, 1, 12, 0, 0)) {
    this.#now = start;
  }

  readonly now = (): number => this.#now;

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** When the pending timers are due, earliest first. */
  pending(): number[] {
    return [...this.#timers.values()].map((timer) => timer.at).sort((a, b) => a - b);
  }

  /** Moves time forward, firing every timer that comes due, in order of due time. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const due = [...this.#timers.entries()]
        .filter(([, timer]) => timer.at <= end)
        .sort(([, a], [, b]) => a.at - b.at)[0];
      if (due === undefined) break;
      const [id, timer] = due;
      this.#timers.delete(id);
      this.#now = Math.max(this.#now, timer.at);
      timer.callback();
    }
    this.#now = end;
  }

  /**
   * Moves time forward without firing anything: a suspended laptop or a frozen tab, whose timers
   * are late. They fire at the next `advance`.
   */
  jump(ms: number): void {
    this.#now += ms;
  }

  /** Moves to `time`, firing what comes due. */
  advanceTo(time: number): void {
    this.advance(time - this.#now);
  }
}

/** The Web Storage API over a Map: what `localStorage` is to the adapters. */
export class MemoryWebStorage implements StorageLike {
  readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}

/** A real `fetch` that records every request's method, path and headers: the network as counted. */
export function recordingFetch(): {
  fetch: typeof globalThis.fetch;
  requests: Array<{ method: string; path: string; headers: Headers }>;
  count(path: string): number;
} {
  const requests: Array<{ method: string; path: string; headers: Headers }> = [];
  return {
    requests,
    count: (path) => requests.filter((request) => request.path === path).length,
    fetch: (input, init) => {
      const request = new Request(input, init);
      requests.push({
        method: request.method,
        path: new URL(request.url).pathname,
        headers: request.headers,
      });
      return globalThis.fetch(request);
    },
  };
}

/** Lets pending network replies and cross-tab messages arrive. */
export async function settle(ms = 20): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `condition` holds (for replies on the real network), failing after `ms`. */
export async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves with the next payload of `event`. */
export function nextEvent<T>(on: (listener: (payload: T) => void) => () => void): Promise<T> {
  return new Promise((resolve) => {
    const off = on((payload) => {
      off();
      resolve(payload);
    });
  });
}
