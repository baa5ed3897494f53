import {
  EmailTakenError,
  InvalidCredentialsError,
  InvalidLinkError,
  InvalidRequestError,
} from '@tessera/protocol';
import { recordAudit, type Actor } from '../audit/audit.ts';
import { canonicalEmail } from '../passwords/email.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import { assertPasswordSize } from '../passwords/password-policy.ts';
import type { RateLimits } from '../security/rate-limits.ts';
import type { ClientInfo } from '../sessions/sessions.ts';
import type { Store, UserRecord } from '../stores/store.ts';
import { hashToken, TOKEN_PATTERN, type EmailedTokens } from './emailed-tokens.ts';
import { VERIFY_TTL_SECONDS } from './recovery.ts';

/**
 * Changing the account's address (issue 13): asked by the signed-in user with the password, it
 * mails a confirmation link to the new address and a notice to the old one; the address changes
 * only when the link is spent. Until then nothing changes, and a reset or a password change kills
 * the link (its binding holds the password hash).
 */
export class EmailChange {
  readonly #store: Store;
  readonly #hasher: PasswordHasher;
  readonly #limits: RateLimits;
  readonly #tokens: EmailedTokens;

  constructor(parts: { store: Store; hasher: PasswordHasher; limits: RateLimits; tokens: EmailedTokens }) {
    this.#store = parts.store;
    this.#hasher = parts.hasher;
    this.#limits = parts.limits;
    this.#tokens = parts.tokens;
  }

  /**
   * `POST /auth/email/change`. The password is checked here (a stolen access token alone cannot
   * move the account to another mailbox, SECURITY.md REC-09); the answer is the same whether or
   * not the new address has an account, and the mail is made after it.
   */
  async request(
    user: UserRecord,
    input: { newEmail: string; password: string },
    client: ClientInfo,
    now: number,
  ): Promise<void> {
    const newEmail = canonicalEmail(input.newEmail);
    assertPasswordSize(input.password);
    if (newEmail === user.email)
      throw new InvalidRequestError('newEmail is already the address of this account');
    // The password-change counter: a stolen session cannot guess the password here without limit.
    await this.#limits.hitPasswordChange(user.id, now);
    if (!(await this.#hasher.verify(user.passwordHash, input.password))) throw new InvalidCredentialsError();
    await this.#limits.clearPasswordChange(user.id);
    if (!(await this.#limits.hitRecovery('email_change', newEmail, client.ip, now))) return;
    this.#tokens.later(() => this.#issue(user, newEmail, client, now));
  }

  /** `POST /auth/email/change/confirm`: the user with the new address. */
  async confirm(token: string, client: ClientInfo, now: number): Promise<UserRecord> {
    if (!TOKEN_PATTERN.test(token)) throw new InvalidLinkError();
    const outcome = await this.#store.recovery.changeEmail(hashToken(token), now);
    // Told only to whoever holds the link, that is, whoever reads the new address's mail.
    if (outcome.kind === 'taken') throw new EmailTakenError();
    if (outcome.kind !== 'changed') throw new InvalidLinkError();
    const actor: Actor = { id: outcome.user.id, ip: client.ip, userAgent: client.userAgent };
    await recordAudit(this.#store, { action: 'email_changed', actor, subject: outcome.user.id }, now);
    return outcome.user;
  }

  async #issue(user: UserRecord, newEmail: string, client: ClientInfo, now: number): Promise<void> {
    // An address that has an account gets nothing: the change could not be confirmed anyway.
    if ((await this.#store.getUserByEmail(newEmail)) !== null) return;
    const { templates } = this.#tokens;
    await this.#tokens.issue(
      {
        user,
        purpose: 'email_change',
        ttlSeconds: VERIFY_TTL_SECONDS,
        recipient: newEmail,
        payload: newEmail,
        render: (link) =>
          templates.render('email_change', {
            link,
            email: user.email,
            newEmail,
            hours: String(VERIFY_TTL_SECONDS / 3600),
          }),
        alsoTo: [
          {
            recipient: user.email,
            template: 'email_change_notice',
            mail: templates.render('email_change_notice', { email: user.email, newEmail }),
          },
        ],
      },
      now,
    );
    const actor: Actor = { id: user.id, ip: client.ip, userAgent: client.userAgent };
    await recordAudit(this.#store, { action: 'email_change_requested', actor, subject: user.id }, now);
  }
}
