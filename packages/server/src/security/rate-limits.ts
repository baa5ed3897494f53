import { RateLimitedError } from '@tessera/protocol';
import type { Store } from '../stores/store.ts';

export interface RateLimitSettings {
  /** Failed logins per account within `loginFailureWindow` before `429`. */
  loginMaxFailures: number;
  /** Seconds. */
  loginFailureWindow: number;
  /** Requests per minute per client address to login, sign-up and refresh. */
  ipRateLimit: number;
}

/**
 * Brute-force limits (ATTACKS AUTH-04, AUTH-05): per client address on the credential endpoints,
 * and per account on failed logins. The account limit applies to unknown emails exactly as to
 * known ones, so it tells nothing about which accounts exist; while it holds, even the right
 * password is refused. Counters live in the store, so instances sharing a store share them.
 */
export class RateLimits {
  readonly #store: Store;
  readonly #settings: RateLimitSettings;

  constructor(store: Store, settings: RateLimitSettings) {
    this.#store = store;
    this.#settings = settings;
  }

  /** Counts one request from `ip`; throws `RateLimitedError` past the per-minute limit. */
  async hitAddress(ip: string, now: number): Promise<void> {
    const counter = await this.#store.hitCounter(`ip:${ip}`, 60_000, now);
    if (counter.count > this.#settings.ipRateLimit)
      throw new RateLimitedError((counter.resetAt - now) / 1000);
  }

  /** Throws `RateLimitedError` while the account has too many recent failures. */
  async assertLoginAllowed(email: string, now: number): Promise<void> {
    const counter = await this.#store.peekCounter(accountKey(email), now);
    if (counter && counter.count >= this.#settings.loginMaxFailures) {
      throw new RateLimitedError((counter.resetAt - now) / 1000);
    }
  }

  /** Counts one sign-up attempt for `email`; throws `RateLimitedError` past the account limit. */
  async hitSignup(email: string, now: number): Promise<void> {
    const windowMs = this.#settings.loginFailureWindow * 1000;
    const counter = await this.#store.hitCounter(`signup:${email}`, windowMs, now);
    if (counter.count > this.#settings.loginMaxFailures)
      throw new RateLimitedError((counter.resetAt - now) / 1000);
  }

  async recordLoginFailure(email: string, now: number): Promise<void> {
    await this.#store.hitCounter(accountKey(email), this.#settings.loginFailureWindow * 1000, now);
  }

  async clearLoginFailures(email: string): Promise<void> {
    await this.#store.clearCounter(accountKey(email));
  }
}

function accountKey(email: string): string {
  return `login:${email}`;
}
