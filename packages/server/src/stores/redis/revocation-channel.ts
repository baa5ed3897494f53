import type { Redis } from 'ioredis';
import type { RevokedSession } from '../store.ts';
import { revokedFromValue } from './redis-records.ts';

type Listener = (revoked: RevokedSession[]) => void;

/**
 * The receiving end of the `revoked` channel: one subscriber connection per instance that hands
 * each batch a script published to every listener. Redis pub/sub delivers only to connected
 * subscribers, so a batch published while this connection is down is lost; the instance's
 * one-second log sync reads it then (the log stays the source of truth).
 */
export class RevocationChannel {
  readonly #subscriber: Redis;
  readonly #channel: string;
  readonly #listeners = new Set<Listener>();
  #subscribed = false;

  constructor(subscriber: Redis, channel: string) {
    this.#subscriber = subscriber;
    this.#channel = channel;
    subscriber.on('message', (from: string, message: string) => {
      if (from === this.#channel) this.#deliver(message);
    });
    // ioredis resubscribes after a reconnect by itself; this covers a first subscribe that failed.
    subscriber.on('ready', () => this.#subscribe());
  }

  listen(listener: Listener): () => void {
    this.#listeners.add(listener);
    this.#subscribe();
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#subscriber.disconnect();
  }

  #subscribe(): void {
    if (this.#subscribed || this.#listeners.size === 0) return;
    this.#subscribed = true;
    this.#subscriber.subscribe(this.#channel).catch(() => {
      this.#subscribed = false; // Redis is down: retried on the next 'ready'
    });
  }

  #deliver(message: string): void {
    let batch: unknown;
    try {
      batch = JSON.parse(message);
    } catch {
      return;
    }
    if (!Array.isArray(batch)) return;
    const revoked = batch.flatMap((value: unknown) => {
      const entry = revokedFromValue(value);
      return entry ? [entry] : [];
    });
    if (revoked.length === 0) return;
    for (const listener of this.#listeners) listener(revoked);
  }
}
