import { UnavailableError } from '@tessera/protocol';
import type { AlgorithmName, PreparedKey } from '../algorithms.ts';
import { keysFromJwks } from './jwk-set.ts';

export interface JwksCacheOptions {
  url: string;
  algorithms: ReadonlySet<AlgorithmName>;
  /** Milliseconds; injectable so tests move time instead of waiting. */
  now: () => number;
  /** At most one fetch per this many ms because of unknown `kid`s (ATTACKS KID-04). */
  cooldownMs: number;
  /** A fetch slower than this is abandoned (ms). */
  timeoutMs: number;
}

/** Used when the JWKS response says nothing about caching (the server's own `max-age`). */
const DEFAULT_MAX_AGE_MS = 300_000;
/** A `max-age` above this is capped, so a key removed at the server drops out within a day. */
const LONGEST_MAX_AGE_MS = 86_400_000;
/** JWKS responses bigger than this are refused rather than parsed. */
const MAX_JWKS_BYTES = 256 * 1024;

/**
 * The auth server's public keys, fetched once and kept:
 * - for the response's `Cache-Control: max-age`, after which the next use refreshes them in the
 *   background while the current keys keep serving (a rotation publishes its key a whole
 *   `max-age` before it signs, so nothing waits on the network);
 * - refetched on an unknown `kid` (a rotation done with `--now`), but at most once per cooldown
 *   besides the background refreshes, so an attacker sending random `kid`s cannot make us hammer
 *   the server (ATTACKS KID-04);
 * - the last good set is kept when the server is unreachable or answers nonsense.
 * Only the URL given by the operator is ever fetched: never a `jku`/`x5u` from a token (KID-06).
 */
export class JwksCache {
  readonly #options: JwksCacheOptions;
  #keys: Map<string, PreparedKey> | null = null;
  #expiresAt = 0;
  #lastFetchAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | null = null;
  #lastMissFetchAt = Number.NEGATIVE_INFINITY;

  constructor(options: JwksCacheOptions) {
    this.#options = options;
  }

  /**
   * The key for `kid`: synchronously from the cache when it is there (the hot path), else after
   * at most one fetch. Rejects with `UnavailableError` only while no key set was ever obtained.
   */
  async get(kid: string): Promise<PreparedKey | undefined> {
    const cached = this.peek(kid);
    if (cached) return cached;
    // A fetch in flight (a background refresh, another caller's) may bring the kid: wait for it.
    if (this.#inflight !== null) {
      await this.#inflight.catch(() => undefined);
      const fetched = this.#keys?.get(kid);
      if (fetched) return fetched;
    }
    // It may also have left before the kid was published (a rotation with `--now` landing during a
    // background refresh), so an unknown kid fetches once more, at most once per cooldown of its
    // own: background refreshes (once per max-age) do not use it up, nor does it add to them.
    const now = this.#options.now();
    if (this.#keys === null || now - this.#lastMissFetchAt >= this.#options.cooldownMs) {
      this.#lastMissFetchAt = now;
      await this.#refresh().catch(() => undefined);
    }
    if (this.#keys === null) {
      throw new UnavailableError(5, {
        cause: new Error(`could not fetch the JWKS from ${this.#options.url}`),
      });
    }
    return this.#keys.get(kid);
  }

  /** The cached key for `kid`, if any; starts a background refresh once `max-age` has passed. */
  peek(kid: string): PreparedKey | undefined {
    if (this.#keys === null) return undefined;
    const now = this.#options.now();
    if (now >= this.#expiresAt && now - this.#lastFetchAt >= this.#options.cooldownMs) {
      this.#refresh().catch(() => undefined); // the last good set keeps serving meanwhile
    }
    return this.#keys.get(kid);
  }

  /** One fetch at a time; concurrent callers share it. */
  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<void> {
    const { url, timeoutMs, algorithms, now } = this.#options;
    this.#lastFetchAt = now();
    const response = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS too large');
    this.#keys = keysFromJwks(JSON.parse(text), algorithms);
    this.#expiresAt = now() + maxAgeMs(response.headers.get('cache-control'));
  }
}

/** `max-age` of a `Cache-Control` value (RFC 9111 §5.2.2.1), in ms; `no-store`/`no-cache` → 0. */
export function maxAgeMs(cacheControl: string | null): number {
  if (cacheControl === null) return DEFAULT_MAX_AGE_MS;
  if (/(^|[\s,])no-(store|cache)($|[\s,=])/i.test(cacheControl)) return 0;
  const match = /(?:^|[\s,])max-age\s*=\s*"?(\d{1,10})"?/i.exec(cacheControl);
  if (!match) return DEFAULT_MAX_AGE_MS;
  return Math.min(Number(match[1]) * 1000, LONGEST_MAX_AGE_MS);
}
