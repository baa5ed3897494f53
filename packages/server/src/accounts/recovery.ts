import { InvalidLinkError, InvalidTokenError } from '@tessera/protocol';
import { recordAudit, type Actor } from '../audit/audit.ts';
import { canonicalEmail } from '../passwords/email.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import { assertAcceptablePassword } from '../passwords/password-policy.ts';
import type { RateLimits } from '../security/rate-limits.ts';
import type { ClientInfo, Sessions } from '../sessions/sessions.ts';
import type { Store, UserRecord } from '../stores/store.ts';
import { hashToken, TOKEN_PATTERN, type EmailedTokens } from './emailed-tokens.ts';

/**
 * Mails `user` a reset link valid `ttlSeconds`, audited as asked for by `actor`: a stranger at
 * `/auth/password/forgot`, or an operator (`tessera users send-reset`).
 */
export async function issueResetLink(
  tokens: EmailedTokens,
  user: UserRecord,
  ttlSeconds: number,
  actor: Actor,
  now: number,
): Promise<void> {
  await tokens.issue(
    {
      user,
      purpose: 'password_reset',
      ttlSeconds,
      render: (link) =>
        tokens.templates.render('password_reset', {
          link,
          email: user.email,
          minutes: String(Math.round(ttlSeconds / 60)),
        }),
    },
    now,
  );
  await tokens.audit({ action: 'password_reset_requested', actor, subject: user.id }, now);
}

export interface RecoverySettings {
  /** Seconds a reset link stays valid (`TESSERA_RESET_TTL`). */
  resetTtl: number;
  emailVerification: 'optional' | 'required' | 'off';
}

/** A verification link is good for a day: it is often opened later than a reset link. */
export const VERIFY_TTL_SECONDS = 24 * 3600;

/**
 * Password reset and email verification by emailed link (issue 13). Asking for a link answers the
 * same, at once, whatever the address (SECURITY.md REC-01): the lookup, the token and the mail are
 * made after the answer, so no timing tells whether an account exists. Spending a reset link
 * changes the password, revokes every session and kills every other link, in one transaction.
 */
export class Recovery {
  readonly #store: Store;
  readonly #hasher: PasswordHasher;
  readonly #limits: RateLimits;
  readonly #sessions: Sessions;
  readonly #tokens: EmailedTokens;
  readonly #settings: RecoverySettings;

  constructor(
    parts: {
      store: Store;
      hasher: PasswordHasher;
      limits: RateLimits;
      sessions: Sessions;
      tokens: EmailedTokens;
    },
    settings: RecoverySettings,
  ) {
    this.#store = parts.store;
    this.#hasher = parts.hasher;
    this.#limits = parts.limits;
    this.#sessions = parts.sessions;
    this.#tokens = parts.tokens;
    this.#settings = settings;
  }

  /**
   * `POST /auth/password/forgot`: counts the request against the address (known or not), then
   * returns; the link is made and queued afterwards for an enabled account only.
   */
  async forgotPassword(email: string, client: ClientInfo, now: number): Promise<void> {
    const canonical = canonicalEmail(email);
    if (!(await this.#limits.hitRecovery('password_reset', canonical, client.ip, now))) return;
    this.#tokens.later(() => this.#issueReset(canonical, client, now));
  }

  /** `POST /auth/password/reset`: throws `InvalidLinkError` for any token that cannot be spent. */
  async resetPassword(
    input: { token: string; newPassword: string },
    client: ClientInfo,
    now: number,
  ): Promise<void> {
    // Checked before the token is spent: a weak password must not burn the link.
    assertAcceptablePassword(input.newPassword, 'newPassword');
    if (!TOKEN_PATTERN.test(input.token)) throw new InvalidLinkError();
    const newPasswordHash = await this.#hasher.hash(input.newPassword);
    const outcome = await this.#store.recovery.resetPassword({
      tokenHash: hashToken(input.token),
      newPasswordHash,
      now,
    });
    if (outcome.kind !== 'reset') throw new InvalidLinkError();
    this.#sessions.noteRevoked(outcome.revoked, 'password_changed');
    const actor: Actor = { id: outcome.user.id, ip: client.ip, userAgent: client.userAgent };
    const detail = { revokedSessions: outcome.revoked.length };
    await recordAudit(
      this.#store,
      { action: 'password_reset', actor, subject: outcome.user.id, detail },
      now,
    );
  }

  /** Resolves when the background work of earlier requests (of every emailed flow) is done. */
  idle(): Promise<void> {
    return this.#tokens.idle();
  }

  /**
   * After sign-up (unless `TESSERA_EMAIL_VERIFICATION=off`): mails the verification link, after
   * the answer. A failure is logged; the person can ask again (`resendVerification`).
   */
  afterSignup(user: UserRecord, now: number): void {
    if (this.#settings.emailVerification === 'off') return;
    this.#tokens.later(() => this.#issueVerification(user, now));
  }

  /**
   * `POST /auth/email/verify/resend`: a new link for a signed-in user whose address is not
   * verified yet, within the per-address limit; nothing for a verified one.
   */
  async resendVerification(userId: string, client: ClientInfo, now: number): Promise<void> {
    const user = await this.#store.getUserById(userId);
    if (!user || user.disabledAt !== null) throw new InvalidTokenError('The account is not active');
    if (this.#settings.emailVerification === 'off' || user.emailVerifiedAt !== null) return;
    if (!(await this.#limits.hitRecovery('email_verify', user.email, client.ip, now))) return;
    await this.#issueVerification(user, now);
    const actor: Actor = { id: user.id, ip: client.ip, userAgent: client.userAgent };
    await recordAudit(this.#store, { action: 'email_verification_sent', actor, subject: user.id }, now);
  }

  /** `POST /auth/email/verify`: throws `InvalidLinkError` for any token that cannot be spent. */
  async verifyEmail(token: string, client: ClientInfo, now: number): Promise<UserRecord> {
    if (!TOKEN_PATTERN.test(token)) throw new InvalidLinkError();
    const outcome = await this.#store.recovery.verifyEmail(hashToken(token), now);
    if (outcome.kind !== 'verified') throw new InvalidLinkError();
    const actor: Actor = { id: outcome.user.id, ip: client.ip, userAgent: client.userAgent };
    await recordAudit(this.#store, { action: 'email_verified', actor, subject: outcome.user.id }, now);
    return outcome.user;
  }

  async #issueReset(email: string, client: ClientInfo, now: number): Promise<void> {
    const user = await this.#store.getUserByEmail(email);
    if (!user || user.disabledAt !== null) return;
    const actor: Actor = { id: null, ip: client.ip, userAgent: client.userAgent };
    await issueResetLink(this.#tokens, user, this.#settings.resetTtl, actor, now);
  }

  async #issueVerification(user: UserRecord, now: number): Promise<void> {
    await this.#tokens.issue(
      {
        user,
        purpose: 'email_verify',
        ttlSeconds: VERIFY_TTL_SECONDS,
        render: (link) =>
          this.#tokens.templates.render('verify_email', {
            link,
            email: user.email,
            hours: String(VERIFY_TTL_SECONDS / 3600),
          }),
      },
      now,
    );
  }
}
