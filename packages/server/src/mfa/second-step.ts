import { randomBytes } from 'node:crypto';
import { InvalidCodeError, InvalidGrantError, MfaRequiredError } from '@tessera/protocol';
import { TOKEN_PATTERN, hashToken } from '../accounts/emailed-tokens.ts';
import { recordAudit, type Actor } from '../audit/audit.ts';
import { NO_METRICS, type MetricsSink } from '../observability/metrics.ts';
import type { RateLimits } from '../security/rate-limits.ts';
import type { ClientInfo, Sessions, TokenGrant } from '../sessions/sessions.ts';
import { bindingOf } from '../stores/recovery/recovery-store.ts';
import type { Store, UserRecord } from '../stores/store.ts';
import type { Mfa } from './mfa.ts';

/** How long an mfaToken lets the second step be done after the first (issue 14: short-lived). */
export const MFA_TOKEN_TTL_SECONDS = 300;

/** The way in that passed: the password, or an emailed code or link. */
export type FirstFactor = 'password' | 'email_code';

/** RFC 8176 method values of each first factor: an emailed code is a one-time password. */
const FIRST_FACTOR_AMR: Record<FirstFactor, readonly string[]> = { password: ['pwd'], email_code: ['otp'] };

export interface SignInOptions {
  remember: boolean;
  cookie: boolean;
}

/**
 * The one door to a session after a first factor (issue 14: "every way in"). Password login and
 * sign-in by emailed code hand the user here instead of starting a session themselves: with no
 * active second factor a session starts; with one, nothing does, and `MfaRequiredError` carries
 * an mfaToken. The token is a one-time token of its own purpose, bound to the user's email and
 * password (a change kills it), carrying the first request's options (`remember`, `cookie`),
 * counted on every try and dead after five wrong codes, spent once.
 */
export class SecondStep {
  readonly #store: Store;
  readonly #sessions: Sessions;
  readonly #mfa: Mfa;
  readonly #metrics: MetricsSink;

  readonly #limits: RateLimits;

  constructor(parts: {
    store: Store;
    sessions: Sessions;
    mfa: Mfa;
    limits: RateLimits;
    metrics?: MetricsSink;
  }) {
    this.#store = parts.store;
    this.#sessions = parts.sessions;
    this.#mfa = parts.mfa;
    this.#limits = parts.limits;
    this.#metrics = parts.metrics ?? NO_METRICS;
  }

  /** A session, or (an account with a second factor) `MfaRequiredError` and no session. */
  async begin(
    user: UserRecord,
    first: FirstFactor,
    options: SignInOptions,
    client: ClientInfo,
    now: number,
  ): Promise<TokenGrant> {
    if (!(await this.#mfa.required(user.id)))
      return this.#sessions.start(user, options.remember, client, now, FIRST_FACTOR_AMR[first]);
    const mfaToken = randomBytes(32).toString('base64url');
    await this.#store.recovery.issueToken({
      hash: hashToken(mfaToken),
      purpose: 'mfa_login',
      userId: user.id,
      binding: bindingOf(user, 'mfa_login'),
      createdAt: now,
      expiresAt: now + MFA_TOKEN_TTL_SECONDS * 1000,
      payload: JSON.stringify({ ...options, first }),
    });
    throw new MfaRequiredError(mfaToken, ['totp', 'recovery_code']);
  }

  /**
   * `POST /auth/mfa/verify`: the session the first factor asked for, once `code` (a TOTP code or
   * a recovery code) proves the second. The try is counted before the code is looked at.
   */
  async verify(
    input: { mfaToken: string; code: string },
    client: ClientInfo,
    now: number,
    { beforeCookieSession }: { beforeCookieSession?: () => void } = {},
  ): Promise<{ grant: TokenGrant; cookie: boolean }> {
    if (!TOKEN_PATTERN.test(input.mfaToken)) throw invalidMfaToken();
    const hash = hashToken(input.mfaToken);
    const tried = await this.#store.recovery.tryToken(hash, 'mfa_login', now);
    if (tried === null) throw invalidMfaToken();
    const { user } = tried;
    const options = optionsOf(tried.payload);
    // Login CSRF (cookie mode): checked before any code is spent or any session exists.
    if (options.cookie) beforeCookieSession?.();
    const actor: Actor = { id: null, ip: client.ip, userAgent: client.userAgent };
    // Second-factor guesses count against the account's login limit as password guesses do: a
    // new mfaToken (five tries each) needs the password again, and that count is not cleared by
    // a right password while a factor is pending, so guesses stay bounded across tokens.
    await this.#limits.hitLogin(user.email, now);
    const proof = await this.#mfa.check(user.id, input.code, now);
    if (proof === null) {
      this.#metrics.login('invalid_code');
      await recordAudit(this.#store, { action: 'mfa_failed', actor, subject: user.id }, now);
      throw new InvalidCodeError();
    }
    if (!(await this.#store.recovery.spendToken(hash, 'mfa_login', now))) throw invalidMfaToken();
    // RFC 8176 §2: the first factor's method, `otp` for the code (a recovery code is one-time too),
    // and `mfa` for the two together.
    const amr = [...new Set([...FIRST_FACTOR_AMR[options.first], 'otp', 'mfa'])];
    const grant = await this.#sessions.start(user, options.remember, client, now, amr);
    await this.#limits.clearLogin(user.email);
    this.#metrics.login('success');
    const detail = { sessionId: grant.access.claims.sid, via: options.first, secondFactor: proof.kind };
    await recordAudit(
      this.#store,
      { action: 'login_succeeded', actor: { ...actor, id: user.id }, subject: user.id, detail },
      now,
    );
    return { grant, cookie: options.cookie };
  }
}

function invalidMfaToken(): InvalidGrantError {
  return new InvalidGrantError(
    'The mfaToken is invalid, expired, used or dead after five wrong codes; sign in again',
  );
}

function optionsOf(payload: string | null): SignInOptions & { first: FirstFactor } {
  const parsed = (payload === null ? {} : JSON.parse(payload)) as Partial<
    SignInOptions & { first: FirstFactor }
  >;
  return {
    remember: parsed.remember !== false,
    cookie: parsed.cookie === true,
    first: parsed.first === 'email_code' ? 'email_code' : 'password',
  };
}
