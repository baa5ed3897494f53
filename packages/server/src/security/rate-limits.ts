import { isIPv6 } from 'node:net';
import { RateLimitedError } from '@tessera/protocol';
import { NO_METRICS, type MetricsSink, type RateLimitName } from '../observability/metrics.ts';
import type { Store } from '../stores/store.ts';

export interface RateLimitSettings {
  /** Login attempts per account within `loginFailureWindow` before `429` (a success resets). */
  loginMaxFailures: number;
  /** Seconds. */
  loginFailureWindow: number;
  /** Requests per minute per client address to login, sign-up and refresh. */
  ipRateLimit: number;
}

/** The emailed flows, each limited on its own. */
export type MailFlow = 'password_reset' | 'email_verify' | 'email_change' | 'email_login';

/** Recovery mails per flow, target address and client address per hour; past it, `429`. */
const RECOVERY_LIMIT = 5;
/** Recovery mails per flow and target address per hour from every client together. */
const RECOVERY_MAIL_CAP = 20;
const RECOVERY_WINDOW_MS = 3600_000;
/** Past the cap, one mail per flow and target address per this time still goes out. */
const RECOVERY_TRICKLE_MS = 10 * 60_000;

/**
 * Brute-force limits (ATTACKS AUTH-04, AUTH-05): per client address on the credential endpoints,
 * and per account on password checks. Every limit counts *before* the password is checked, so
 * guesses sent concurrently — all in flight while argon2 runs — are counted as they arrive
 * rather than after. The account limit applies to unknown emails exactly as to known ones, so it
 * tells nothing about which accounts exist; while it holds, even the right password is refused.
 * Counters live in the store: shared across instances on PostgreSQL/Redis, per process on SQLite.
 */
export class RateLimits {
  readonly #store: Store;
  readonly #settings: RateLimitSettings;
  readonly #metrics: MetricsSink;

  constructor(store: Store, settings: RateLimitSettings, metrics: MetricsSink = NO_METRICS) {
    this.#store = store;
    this.#settings = settings;
    this.#metrics = metrics;
  }

  /** Counts one request from `ip`; throws `RateLimitedError` past the per-minute limit. */
  async hitAddress(ip: string, now: number): Promise<void> {
    await this.#hit('address', `ip:${addressKey(ip)}`, 60_000, this.#settings.ipRateLimit, now);
  }

  /** Counts one login attempt for `email`; throws `RateLimitedError` past the account limit. */
  async hitLogin(email: string, now: number): Promise<void> {
    await this.#hit('login', `login:${email}`, this.#windowMs, this.#settings.loginMaxFailures, now);
  }

  /** A successful login ends the account's count. */
  async clearLogin(email: string): Promise<void> {
    await this.#store.counters.clear(`login:${email}`);
  }

  /**
   * Counts one password-change attempt of a signed-in user. A counter of its own: failed logins
   * by a stranger must not lock the owner out of changing their password.
   */
  async hitPasswordChange(userId: string, now: number): Promise<void> {
    await this.#hit('password', `password:${userId}`, this.#windowMs, this.#settings.loginMaxFailures, now);
  }

  async clearPasswordChange(userId: string): Promise<void> {
    await this.#store.counters.clear(`password:${userId}`);
  }

  /** Counts one sign-up attempt for `email`; throws `RateLimitedError` past the account limit. */
  async hitSignup(email: string, now: number): Promise<void> {
    await this.#hit('signup', `signup:${email}`, this.#windowMs, this.#settings.loginMaxFailures, now);
  }

  /**
   * Counts one mail of `flow` asked for `email` by the client at `ip` (a reset link, a sign-in
   * code), known account or not, so that no limit says which accounts exist. Two limits, each per
   * flow (asking for codes does not block a reset):
   * - per target and client address: past it, `429`. A stranger who exhausts theirs has not
   *   touched the owner's, who asks from another address (SECURITY.md REC-15);
   * - per target from every client together, which bounds the mail an inbox can be made to
   *   receive: past it the request is answered as usual, since a `429` there would let a
   *   stranger's flood refuse the owner, and one mail per ten minutes still goes (`true` for the
   *   first request of each ten minutes, `false` for the rest: send nothing). So however large
   *   the flood, the inbox always holds a link or code at most ten minutes old.
   */
  async hitRecovery(flow: MailFlow, email: string, ip: string, now: number): Promise<boolean> {
    const key = `recovery:${flow}:${email}`;
    await this.#hit('recovery', `${key}:${addressKey(ip)}`, RECOVERY_WINDOW_MS, RECOVERY_LIMIT, now);
    const total = await this.#store.counters.hit(key, RECOVERY_WINDOW_MS, now);
    if (total.count <= RECOVERY_MAIL_CAP) return true;
    const trickle = await this.#store.counters.hit(`${key}:trickle`, RECOVERY_TRICKLE_MS, now);
    if (trickle.count === 1) return true;
    this.#metrics.rateLimited('recovery_mail');
    return false;
  }

  get #windowMs(): number {
    return this.#settings.loginFailureWindow * 1000;
  }

  async #hit(name: RateLimitName, key: string, windowMs: number, limit: number, now: number): Promise<void> {
    const counter = await this.#store.counters.hit(key, windowMs, now);
    if (counter.count <= limit) return;
    this.#metrics.rateLimited(name);
    throw new RateLimitedError((counter.resetAt - now) / 1000);
  }
}

/**
 * The unit a client address is limited by. An IPv6 client usually holds a whole /64, so one
 * address per request would make the limit meaningless; IPv4 (and IPv4-mapped) addresses count
 * alone.
 */
export function addressKey(ip: string): string {
  // A zone id ("%eth0") says nothing about who the client is, and may itself hold colons.
  const address = ip.split('%', 1)[0] ?? ip;
  if (!isIPv6(address) || address.includes('.')) return address;
  const [head = '', tail = ''] = address.split('::', 2);
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = address.includes('::') ? 8 - left.length - right.length : 0;
  if (missing < 0) return address;
  const groups = [...left, ...Array<string>(missing).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group || '0', 16).toString(16))
    .join(':')}::/64`;
}
