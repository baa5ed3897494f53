import type { Redis } from 'ioredis';
import type { Counter, CounterStore } from '../counters/counter-store.ts';
import { HIT_COUNTER } from './lua-scripts.ts';
import { guard } from './redis-connection.ts';

/**
 * Counters in Redis, shared by every instance: a hash per window (`counter:<key>`) that Redis
 * expires with the window, so nothing is left to sweep.
 */
export class RedisCounterStore implements CounterStore {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async hit(key: string, windowMs: number, now: number): Promise<Counter> {
    const window = Math.max(1, Math.ceil(windowMs));
    const reply = await guard(() => HIT_COUNTER.run(this.#redis, [this.#prefix, key, now, window]));
    const [count, resetAt] = Array.isArray(reply) ? (reply as unknown[]) : [];
    return { count: Number(count), resetAt: Number(resetAt) };
  }

  async peek(key: string, now: number): Promise<Counter | null> {
    const [count, resetAt] = await guard(() => this.#redis.hmget(this.#key(key), 'count', 'resetAt'));
    if (count == null || resetAt == null || Number(resetAt) <= now) return null;
    return { count: Number(count), resetAt: Number(resetAt) };
  }

  async clear(key: string): Promise<void> {
    await guard(() => this.#redis.unlink(this.#key(key)));
  }

  #key(key: string): string {
    return `${this.#prefix}counter:${key}`;
  }
}
