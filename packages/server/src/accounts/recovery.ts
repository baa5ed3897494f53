import { randomBytes, randomUUID } from 'node:crypto';
import { InvalidLinkError, InvalidTokenError } from '@tessera/protocol';
import { recordAudit, type Actor } from '../audit/audit.ts';
import type { MailSender } from '../mail/mail-sender.ts';
import type { MailTemplates, RenderedMail, TemplateName } from '../mail/templates.ts';
import { NO_METRICS, type MetricsSink } from '../observability/metrics.ts';
import { canonicalEmail } from '../passwords/email.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import { assertAcceptablePassword } from '../passwords/password-policy.ts';
import type { RateLimits } from '../security/rate-limits.ts';
import type { ClientInfo, Sessions } from '../sessions/sessions.ts';
import { bindingOf, type OneTimePurpose } from '../stores/recovery/recovery-store.ts';
import type { Store, UserRecord } from '../stores/store.ts';
// Link tokens are stored exactly as refresh tokens are: one hash function for both.
import { hashRefreshToken as hashToken } from '../tokens/refresh-token.ts';

export interface RecoverySettings {
  /** Seconds a reset link stays valid (`TESSERA_RESET_TTL`). */
  resetTtl: number;
  /** The origin (and path prefix) emailed links point at (`TESSERA_APP_URL`). */
  appUrl: string;
  emailVerification: 'optional' | 'required' | 'off';
}

/** A verification link is good for a day: it is often opened later than a reset link. */
const VERIFY_TTL_SECONDS = 24 * 3600;
/** The page under `TESSERA_APP_URL` each kind of link opens, and the message that carries it. */
const LINKS = {
  password_reset: { page: 'reset-password', template: 'password_reset' },
  email_verify: { page: 'verify-email', template: 'verify_email' },
} as const satisfies Record<OneTimePurpose, { page: string; template: TemplateName }>;

/** 256 bits from the CSPRNG, base64url: 43 characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Password reset by email (issue 13). Asking for a link answers the same, at once, whatever the
 * address (SECURITY.md REC-01): the lookup, the token and the mail are made after the answer, so no
 * timing tells whether an account exists. Spending the link changes the password, revokes every
 * session and kills every other link, in one store transaction.
 */
export class Recovery {
  readonly #store: Store;
  readonly #hasher: PasswordHasher;
  readonly #limits: RateLimits;
  readonly #sessions: Sessions;
  readonly #templates: MailTemplates;
  readonly #sender: MailSender;
  readonly #settings: RecoverySettings;
  readonly #metrics: MetricsSink;
  readonly #onError: (error: unknown) => void;
  readonly #pending = new Set<Promise<void>>();

  constructor(
    parts: {
      store: Store;
      hasher: PasswordHasher;
      limits: RateLimits;
      sessions: Sessions;
      templates: MailTemplates;
      sender: MailSender;
      metrics?: MetricsSink;
      /** A request's background work failed (the store was down): logged, never answered. */
      onError: (error: unknown) => void;
    },
    settings: RecoverySettings,
  ) {
    this.#store = parts.store;
    this.#hasher = parts.hasher;
    this.#limits = parts.limits;
    this.#sessions = parts.sessions;
    this.#templates = parts.templates;
    this.#sender = parts.sender;
    this.#metrics = parts.metrics ?? NO_METRICS;
    this.#onError = parts.onError;
    this.#settings = settings;
  }

  /**
   * `POST /auth/password/forgot`: counts the request against the address (known or not), then
   * returns; the link is made and queued afterwards for an enabled account only.
   */
  async forgotPassword(email: string, client: ClientInfo, now: number): Promise<void> {
    const canonical = canonicalEmail(email);
    await this.#limits.hitRecovery(canonical, now);
    this.#later(() => this.#issueReset(canonical, client, now));
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

  /** Resolves when the background work of earlier requests is done (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  /**
   * After sign-up (unless `TESSERA_EMAIL_VERIFICATION=off`): mails the verification link, after
   * the answer. A failure is logged; the person can ask again (`resendVerification`).
   */
  afterSignup(user: UserRecord, now: number): void {
    if (this.#settings.emailVerification === 'off') return;
    this.#later(() => this.#issueVerification(user, now));
  }

  /**
   * `POST /auth/email/verify/resend`: a new link for a signed-in user whose address is not
   * verified yet, within the per-address recovery limit; nothing for a verified one.
   */
  async resendVerification(userId: string, now: number): Promise<void> {
    const user = await this.#store.getUserById(userId);
    if (!user || user.disabledAt !== null) throw new InvalidTokenError('The account is not active');
    if (this.#settings.emailVerification === 'off' || user.emailVerifiedAt !== null) return;
    await this.#limits.hitRecovery(user.email, now);
    await this.#issueVerification(user, now);
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
    await this.#issue(user, 'password_reset', this.#settings.resetTtl, now, (link) =>
      this.#templates.render('password_reset', {
        link,
        email: user.email,
        minutes: String(Math.round(this.#settings.resetTtl / 60)),
      }),
    );
    const actor: Actor = { id: null, ip: client.ip, userAgent: client.userAgent };
    await recordAudit(this.#store, { action: 'password_reset_requested', actor, subject: user.id }, now);
  }

  async #issueVerification(user: UserRecord, now: number): Promise<void> {
    await this.#issue(user, 'email_verify', VERIFY_TTL_SECONDS, now, (link) =>
      this.#templates.render('verify_email', {
        link,
        email: user.email,
        hours: String(VERIFY_TTL_SECONDS / 3600),
      }),
    );
  }

  /** A token of `purpose` for `user`, stored with the mail that carries its link, one transaction. */
  async #issue(
    user: UserRecord,
    purpose: OneTimePurpose,
    ttlSeconds: number,
    now: number,
    render: (link: string) => RenderedMail,
  ): Promise<void> {
    const token = randomBytes(32).toString('base64url');
    const { page, template } = LINKS[purpose];
    const link = new URL(page, withSlash(this.#settings.appUrl));
    // In the fragment: a browser never sends it to a server, so the token stays out of access
    // logs, proxies and the Referer header (SECURITY.md REC-04, REC-08).
    link.hash = `token=${token}`;
    await this.#store.recovery.issueToken(
      {
        hash: hashToken(token),
        purpose,
        userId: user.id,
        binding: bindingOf(user, purpose),
        createdAt: now,
        expiresAt: now + ttlSeconds * 1000,
      },
      { id: randomUUID(), recipient: user.email, template, ...render(link.href), createdAt: now },
    );
    this.#metrics.mail('queued');
    this.#sender.nudge();
  }

  /** After this turn of the event loop: the answer is sent before any of `work` runs. */
  #later(work: () => Promise<void>): void {
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .catch((error: unknown) => this.#onError(error))
      .finally(() => this.#pending.delete(run));
    this.#pending.add(run);
  }
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
