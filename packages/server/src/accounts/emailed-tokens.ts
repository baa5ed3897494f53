import { randomBytes, randomUUID } from 'node:crypto';
import { recordAudit, type AuditEvent } from '../audit/audit.ts';
import type { MailSender } from '../mail/mail-sender.ts';
import type { MailTemplates, RenderedMail, TemplateName } from '../mail/templates.ts';
import { NO_METRICS, type MetricsSink } from '../observability/metrics.ts';
import type { OutboxMessage } from '../stores/outbox/outbox-store.ts';
import { bindingOf, codeHashOf, type OneTimePurpose } from '../stores/recovery/recovery-store.ts';
import type { Store, UserRecord } from '../stores/store.ts';
// Link tokens are stored exactly as refresh tokens are: one hash function for both.
import { hashRefreshToken as hashToken } from '../tokens/refresh-token.ts';

export { hashToken };

/** The page under `TESSERA_APP_URL` each kind of link opens, and the message that carries it. */
const LINKS = {
  password_reset: { page: 'reset-password', template: 'password_reset' },
  email_verify: { page: 'verify-email', template: 'verify_email' },
  email_change: { page: 'confirm-email', template: 'email_change' },
  email_login: { page: 'sign-in', template: 'sign_in_code' },
} as const satisfies Record<MailedPurpose, { page: string; template: TemplateName }>;

/** The tokens that travel by mail (an mfaToken goes back in the login answer instead). */
export type MailedPurpose = Exclude<OneTimePurpose, 'mfa_login'>;

/** 256 bits from the CSPRNG, base64url: 43 characters. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** What one emailed token is for and what its mail says. */
export interface Issue {
  user: UserRecord;
  purpose: MailedPurpose;
  ttlSeconds: number;
  /** Where the link goes: the user's address unless given (an email change mails the new one). */
  recipient?: string;
  /** The message, given the link (and the code, for a sign-in). */
  render: (link: string) => RenderedMail;
  /** Stored with the token; what spending it applies (`OneTimeTokenRecord.payload`). */
  payload?: string;
  /** A code the mail also carries; stored as `codeHashOf(hash, code)`. */
  code?: string;
  /** Other mail queued in the same transaction (a notice to an old address). */
  alsoTo?: { recipient: string; template: TemplateName; mail: RenderedMail }[];
}

/**
 * Emailed one-time tokens, shared by reset, verification, email change and sign-in by code
 * (issue 13): made, stored with their mail in one transaction, and delivered by the outbox. Work
 * a request triggers runs after its answer (`later`), so no timing tells whether an account exists.
 */
export class EmailedTokens {
  readonly #store: Store;
  readonly #templates: MailTemplates;
  readonly #sender: Pick<MailSender, 'nudge'>;
  readonly #metrics: MetricsSink;
  readonly #appUrl: string;
  readonly #onError: (error: unknown) => void;
  readonly #pending = new Set<Promise<void>>();

  constructor(parts: {
    store: Store;
    templates: MailTemplates;
    /** Told when mail is queued; the CLI queues for the servers' senders and tells no one. */
    sender: Pick<MailSender, 'nudge'>;
    /** The origin (and path prefix) emailed links point at (`TESSERA_APP_URL`). */
    appUrl: string;
    metrics?: MetricsSink;
    /** A request's background work failed (the store was down): logged, never answered. */
    onError: (error: unknown) => void;
  }) {
    this.#store = parts.store;
    this.#templates = parts.templates;
    this.#sender = parts.sender;
    this.#appUrl = parts.appUrl.endsWith('/') ? parts.appUrl : `${parts.appUrl}/`;
    this.#metrics = parts.metrics ?? NO_METRICS;
    this.#onError = parts.onError;
  }

  get templates(): MailTemplates {
    return this.#templates;
  }

  /** An audit entry in the store the tokens are kept in. */
  audit(event: AuditEvent, now: number): Promise<void> {
    return recordAudit(this.#store, event, now);
  }

  /** A token of `issue.purpose` for its user, stored with the mail carrying its link. */
  async issue(
    { user, purpose, ttlSeconds, recipient = user.email, render, payload, code, alsoTo = [] }: Issue,
    now: number,
  ): Promise<void> {
    const token = randomBytes(32).toString('base64url');
    const hash = hashToken(token);
    const { page, template } = LINKS[purpose];
    const link = new URL(page, this.#appUrl);
    // In the fragment: a browser never sends it to a server, so the token stays out of access
    // logs, proxies and the Referer header (SECURITY.md REC-04, REC-08).
    link.hash = `token=${token}`;
    const expiresAt = now + ttlSeconds * 1000;
    const message = (
      recipient: string,
      name: TemplateName,
      mail: RenderedMail,
      link: boolean,
    ): OutboxMessage => ({
      id: randomUUID(),
      recipient,
      template: name,
      ...mail,
      createdAt: now,
      // A message with the link is worth nothing once it died; a notice stays worth sending.
      expiresAt: link ? expiresAt : null,
    });
    await this.#store.recovery.issueToken(
      {
        hash,
        purpose,
        userId: user.id,
        binding: bindingOf(user, purpose),
        createdAt: now,
        expiresAt,
        payload: payload ?? null,
        codeHash: code === undefined ? null : codeHashOf(hash, code),
      },
      message(recipient, template, render(link.href), true),
      ...alsoTo.map((extra) => message(extra.recipient, extra.template, extra.mail, false)),
    );
    for (let count = 0; count <= alsoTo.length; count++) this.#metrics.mail('queued');
    this.#sender.nudge();
  }

  /** After this turn of the event loop: the answer is sent before any of `work` runs. */
  later(work: () => Promise<void>): void {
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .catch((error: unknown) => this.#onError(error))
      .finally(() => this.#pending.delete(run));
    this.#pending.add(run);
  }

  /** Resolves when the background work of earlier requests is done (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }
}
