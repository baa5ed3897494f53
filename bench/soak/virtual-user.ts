import { randomBytes } from 'node:crypto';
import { request, sessionIdOf } from './http.ts';
import type { Account, Ledger, TrackedSession } from './ledger.ts';

/** How often each optional step of an iteration happens (0 to 1). */
export interface Mix {
  signup: number;
  wrongPassword: number;
  graceReplay: number;
  theft: number;
  logout: number;
}

export const DEFAULT_MIX: Mix = {
  signup: 0.02,
  wrongPassword: 0.05,
  graceReplay: 0.05,
  theft: 0.03,
  logout: 0.5,
};

/** Sessions a user keeps open across iterations; the oldest is refreshed then logged out by token. */
const KEPT_SESSIONS = 3;

interface Theft {
  session: TrackedSession;
  spentToken: string;
  spentAt: number;
}

/** A fresh account's sign-up; `undefined` (and a surprise in the ledger) when it was refused. */
export async function signUp(base: string, ledger: Ledger, tag: string): Promise<Account | undefined> {
  const email = `soak-${tag}-${randomBytes(6).toString('hex')}@example.test`;
  const password = `soak ${randomBytes(12).toString('base64url')}`;
  const reply = await request(base, 'POST', '/auth/signup', { body: { email, password } });
  const user = reply.body['user'] as { id?: unknown } | undefined;
  if (!ledger.check('signup', reply, 201, undefined, typeof user?.id === 'string')) return undefined;
  const account = { email, password, userId: String(user?.id) };
  ledger.accounts.push(account);
  return account;
}

/**
 * One simulated user: loops over login, `/auth/me`, refresh, the sessions list and logout until
 * `until` returns true, with now and then a sign-up, a wrong password, a retried refresh inside the
 * grace window, and a stolen refresh token replayed after it (which must be detected as reuse).
 */
export class VirtualUser {
  readonly #base: string;
  readonly #ledger: Ledger;
  readonly #accounts: Account[];
  readonly #mix: Mix;
  readonly #graceMs: number;
  readonly #name: string;
  readonly #kept: TrackedSession[] = [];
  readonly #thefts: Theft[] = [];
  iterations = 0;

  constructor(
    base: string,
    ledger: Ledger,
    accounts: Account[],
    options: { mix: Mix; graceMs: number; name: string },
  ) {
    this.#base = base;
    this.#ledger = ledger;
    this.#accounts = accounts;
    this.#mix = options.mix;
    this.#graceMs = options.graceMs;
    this.#name = options.name;
  }

  async run(until: () => boolean): Promise<void> {
    while (!until()) {
      await this.#iteration();
      this.iterations += 1;
    }
  }

  async #iteration(): Promise<void> {
    const ledger = this.#ledger;
    if (Math.random() < this.#mix.signup) {
      const account = await signUp(this.#base, ledger, this.#name);
      if (account) this.#accounts.push(account);
    }
    const account = this.#accounts[Math.floor(Math.random() * this.#accounts.length)];
    if (!account) return;

    if (Math.random() < this.#mix.wrongPassword) {
      const wrong = await this.#call('POST', '/auth/login', {
        email: account.email,
        password: 'not the password',
      });
      ledger.check('login (wrong password)', wrong, 401, 'invalid_credentials');
    }

    const session = await this.#login(account);
    if (!session) return;
    const me = await this.#call('GET', '/auth/me', undefined, session.accessToken);
    ledger.check('me', me, 200, undefined, me.body['id'] === account.userId);

    const spent = session.refreshToken;
    if (!(await this.#refresh(session))) return;
    if (Math.random() < this.#mix.graceReplay) {
      // A retried refresh inside the grace window gets the current token back, not a new one.
      const retry = await this.#call('POST', '/auth/refresh', { refreshToken: spent });
      ledger.check(
        'refresh (retry in grace)',
        retry,
        200,
        undefined,
        retry.body['refreshToken'] === session.refreshToken,
      );
    }

    const listed = await this.#call('GET', '/auth/sessions', undefined, session.accessToken);
    const mine =
      Array.isArray(listed.body) &&
      listed.body.some((entry) => entry['id'] === session.id && entry['current'] === true);
    ledger.check('sessions', listed, 200, undefined, mine);

    if (Math.random() < this.#mix.theft) {
      // Left live; its spent token is replayed once the grace window is surely over.
      this.#thefts.push({ session, spentToken: spent, spentAt: Date.now() });
    } else if (Math.random() < this.#mix.logout) {
      await this.#logout(session, 'bearer');
    } else {
      this.#kept.push(session);
      const oldest = this.#kept.length > KEPT_SESSIONS ? this.#kept.shift() : undefined;
      // A session left alone for a while still refreshes, then ends by its refresh token.
      if (oldest && (await this.#refresh(oldest))) await this.#logout(oldest, 'refresh token');
    }
    await this.#replayDueThefts();
  }

  async #login(account: Account): Promise<TrackedSession | undefined> {
    const reply = await this.#call('POST', '/auth/login', {
      email: account.email,
      password: account.password,
    });
    const accessToken = reply.body['accessToken'];
    const refreshToken = reply.body['refreshToken'];
    const complete = typeof accessToken === 'string' && typeof refreshToken === 'string';
    if (!this.#ledger.check('login', reply, 200, undefined, complete) || !complete) return undefined;
    const session = {
      id: sessionIdOf(accessToken),
      account,
      accessToken,
      refreshToken,
      state: 'live' as const,
      lastUsedAt: Date.now(),
    };
    this.#ledger.sessions.push(session);
    return session;
  }

  /** Rotates the session's refresh token; the new one is acknowledged once the 200 arrives. */
  async #refresh(session: TrackedSession): Promise<boolean> {
    const reply = await this.#call('POST', '/auth/refresh', { refreshToken: session.refreshToken });
    const { accessToken, refreshToken } = reply.body;
    const complete = typeof accessToken === 'string' && typeof refreshToken === 'string';
    if (!this.#ledger.check('refresh', reply, 200, undefined, complete) || !complete) return false;
    session.accessToken = accessToken;
    session.refreshToken = refreshToken;
    session.lastUsedAt = Date.now();
    return true;
  }

  async #logout(session: TrackedSession, by: 'bearer' | 'refresh token'): Promise<void> {
    const reply =
      by === 'bearer'
        ? await this.#call('POST', '/auth/logout', undefined, session.accessToken)
        : await this.#call('POST', '/auth/logout', { refreshToken: session.refreshToken });
    if (this.#ledger.check(`logout (${by})`, reply, 204)) session.state = 'logged_out';
  }

  async #replayDueThefts(): Promise<void> {
    const due = Date.now() - this.#graceMs - 2000;
    while (this.#thefts.length > 0 && this.#thefts[0]!.spentAt < due) {
      const { session, spentToken } = this.#thefts.shift()!;
      const replay = await this.#call('POST', '/auth/refresh', { refreshToken: spentToken });
      if (!this.#ledger.check('refresh (stolen token replayed)', replay, 401, 'refresh_token_reused'))
        continue;
      session.state = 'reuse_revoked';
      // The whole family is revoked: the legitimate holder's current token is refused too.
      const holder = await this.#call('POST', '/auth/refresh', { refreshToken: session.refreshToken });
      this.#ledger.check('refresh (after reuse detected)', holder, 401, 'invalid_grant');
    }
  }

  #call(method: string, path: string, body?: unknown, token?: string) {
    return request(this.#base, method, path, {
      ...(body === undefined ? {} : { body }),
      ...(token === undefined ? {} : { token }),
    });
  }
}
