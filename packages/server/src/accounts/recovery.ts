import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { InvalidLinkError } from '@tessera/protocol';
import { recordAudit, type Actor } from '../audit/audit.ts';
import type { MailSender } from '../mail/mail-sender.ts';
import type { MailTemplates } from '../mail/templates.ts';
import { NO_METRICS, type MetricsSink } from '../observability/metrics.ts';
import { canonicalEmail } from '../passwords/email.ts';
import type { PasswordHasher } from '../passwords/password-hasher.ts';
import { assertAcceptablePassword } from '../passwords/password-policy.ts';
import type { RateLimits } from '../security/rate-limits.ts';
import type { ClientInfo, Sessions } from '../sessions/sessions.ts';
import { bindingOf } from '../stores/recovery/recovery-store.ts';
import type { Store } from '../stores/store.ts';

export interface RecoverySettings {
  /** Seconds a reset link stays valid (`TESSERA_RESET_TTL`). */
  resetTtl: number;
  /** The origin (and path prefix) emailed links point at (`TESSERA_APP_URL`). */
  appUrl: string;
}

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

  async #issueReset(email: string, client: ClientInfo, now: number): Promise<void> {
    const user = await this.#store.getUserByEmail(email);
    if (!user || user.disabledAt !== null) return;
    const token = randomBytes(32).toString('base64url');
    const link = new URL('reset-password', withSlash(this.#settings.appUrl));
    // In the fragment: a browser never sends it to a server, so the token stays out of access
    // logs, proxies and the Referer header (SECURITY.md REC-04, REC-08).
    link.hash = `token=${token}`;
    const rendered = this.#templates.render('password_reset', {
      link: link.href,
      email: user.email,
      minutes: String(Math.round(this.#settings.resetTtl / 60)),
    });
    await this.#store.recovery.issueToken(
      {
        hash: hashToken(token),
        purpose: 'password_reset',
        userId: user.id,
        binding: bindingOf(user),
        createdAt: now,
        expiresAt: now + this.#settings.resetTtl * 1000,
      },
      { id: randomUUID(), recipient: user.email, template: 'password_reset', ...rendered, createdAt: now },
    );
    this.#metrics.mail('queued');
    this.#sender.nudge();
    const actor: Actor = { id: null, ip: client.ip, userAgent: client.userAgent };
    await recordAudit(this.#store, { action: 'password_reset_requested', actor, subject: user.id }, now);
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

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
