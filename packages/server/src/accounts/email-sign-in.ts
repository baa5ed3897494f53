import { randomInt } from 'node:crypto';
import { InvalidCodeError, InvalidLinkError } from '@tessera/protocol';
import { recordAudit, type Actor } from '../audit/audit.ts';
import { NO_METRICS, type MetricsSink } from '../observability/metrics.ts';
import { canonicalEmail } from '../passwords/email.ts';
import type { SecondStep } from '../mfa/second-step.ts';
import type { RateLimits } from '../security/rate-limits.ts';
import type { ClientInfo, TokenGrant } from '../sessions/sessions.ts';
import type { LoginGrantOutcome } from '../stores/recovery/recovery-store.ts';
import type { Store } from '../stores/store.ts';
import { hashToken, TOKEN_PATTERN, type EmailedTokens } from './emailed-tokens.ts';

/** A sign-in code lives ten minutes (issue 13). */
export const CODE_TTL_SECONDS = 600;

/** What the sign-in request asked for, kept with its token until the code or link is spent. */
interface SignInOptions {
  remember: boolean;
  cookie: boolean;
}

export type SignInProof = { email: string; code: string } | { token: string };

/**
 * Sign-in by emailed code (issue 13): a 6-digit code and a link carrying the same grant, mailed to
 * an enabled account. Asking answers `202` at once whatever the address; spending either starts a
 * session as a password login does, with the options the request gave.
 */
export class EmailSignIn {
  readonly #store: Store;
  readonly #limits: RateLimits;
  readonly #secondStep: SecondStep;
  readonly #tokens: EmailedTokens;
  readonly #metrics: MetricsSink;

  constructor(parts: {
    store: Store;
    limits: RateLimits;
    secondStep: SecondStep;
    tokens: EmailedTokens;
    metrics?: MetricsSink;
  }) {
    this.#store = parts.store;
    this.#limits = parts.limits;
    this.#secondStep = parts.secondStep;
    this.#tokens = parts.tokens;
    this.#metrics = parts.metrics ?? NO_METRICS;
  }

  /** `POST /auth/login/email`: counted against the address, known or not; mailed afterwards. */
  async request(
    input: { email: string; remember?: boolean | undefined; cookie?: boolean | undefined },
    client: ClientInfo,
    now: number,
  ): Promise<void> {
    const email = canonicalEmail(input.email);
    if (!(await this.#limits.hitRecovery('email_login', email, client.ip, now))) return;
    const options: SignInOptions = { remember: input.remember ?? true, cookie: input.cookie === true };
    this.#tokens.later(() => this.#issue(email, options, client, now));
  }

  /**
   * `POST /auth/login/email/verify`: a session for the code's (or the link's) account, and whether
   * the request that asked for it wanted cookies. A code try counts against the account's login
   * limit as a password does, known address or not.
   */
  async verify(
    proof: SignInProof,
    client: ClientInfo,
    now: number,
    { beforeCookieSession }: { beforeCookieSession?: () => void } = {},
  ): Promise<{ grant: TokenGrant; cookie: boolean }> {
    const actor: Actor = { id: null, ...client };
    let outcome: LoginGrantOutcome;
    let email: string | null = null;
    if ('token' in proof) {
      if (!TOKEN_PATTERN.test(proof.token)) throw new InvalidLinkError();
      outcome = await this.#store.recovery.spendLoginLink(hashToken(proof.token), now);
      if (outcome.kind !== 'granted') throw new InvalidLinkError();
    } else {
      email = canonicalEmail(proof.email);
      try {
        await this.#limits.hitLogin(email, now);
      } catch (error) {
        this.#metrics.login('rate_limited');
        throw error;
      }
      outcome = await this.#store.recovery.spendLoginCode({ email, code: proof.code, now });
      if (outcome.kind !== 'granted') {
        this.#metrics.login('invalid_code');
        const detail = { reason: 'invalid_code', via: 'email_code' };
        await recordAudit(this.#store, { action: 'login_failed', actor, subject: null, detail }, now);
        throw new InvalidCodeError();
      }
    }
    const options = optionsOf(outcome.payload);
    if (options.cookie) beforeCookieSession?.();
    // With a second factor this throws `mfa_required`: the code was the first step only.
    const grant = await this.#secondStep.begin(outcome.user, 'email_code', options, client, now);
    if (email !== null) await this.#limits.clearLogin(email);
    this.#metrics.login('success');
    const subject = outcome.user.id;
    const detail = { sessionId: grant.access.claims.sid, via: 'email_code' };
    await recordAudit(
      this.#store,
      { action: 'login_succeeded', actor: { ...actor, id: subject }, subject, detail },
      now,
    );
    return { grant, cookie: options.cookie };
  }

  async #issue(email: string, options: SignInOptions, client: ClientInfo, now: number): Promise<void> {
    const user = await this.#store.getUserByEmail(email);
    if (!user || user.disabledAt !== null) return;
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    await this.#tokens.issue(
      {
        user,
        purpose: 'email_login',
        ttlSeconds: CODE_TTL_SECONDS,
        payload: JSON.stringify(options),
        code,
        render: (link) =>
          this.#tokens.templates.render('sign_in_code', {
            code,
            link,
            email: user.email,
            minutes: String(CODE_TTL_SECONDS / 60),
          }),
      },
      now,
    );
    const actor: Actor = { id: null, ip: client.ip, userAgent: client.userAgent };
    await recordAudit(this.#store, { action: 'sign_in_code_requested', actor, subject: user.id }, now);
  }
}

function optionsOf(payload: string | null): SignInOptions {
  const parsed = payload === null ? {} : (JSON.parse(payload) as Partial<SignInOptions>);
  return { remember: parsed.remember !== false, cookie: parsed.cookie === true };
}
