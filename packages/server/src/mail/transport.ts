import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { RenderedMail } from './templates.ts';

export interface Envelope extends RenderedMail {
  /** The outbox id: also the `Message-ID`'s local part, so a retried message is recognisable. */
  id: string;
  from: string;
  to: string;
}

/** Where mail goes: an SMTP server, or `.eml` files for development. */
export interface MailTransport {
  /** Delivered (handed to the SMTP server, or written) when it resolves; throws otherwise. */
  send(envelope: Envelope): Promise<void>;
  close(): void;
}

/**
 * SMTP (`TESSERA_SMTP_URL`) through nodemailer: `smtps://` is TLS from the first byte; `smtp://`
 * must upgrade with STARTTLS, or the delivery fails (and is retried). Opportunistic STARTTLS would
 * let anyone on the path strip the offer and read every link and the relay's password
 * (SECURITY.md REC-11), so plain text is allowed only to a loopback relay (a local MTA, a test
 * server) or when the URL says `?tls=none`. Bounded timeouts, so a server that stopped answering
 * fails a delivery (to be retried) rather than holding it for ever.
 */
export function smtpTransport(url: string): MailTransport {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'smtps:';
  const transporter = nodemailer.createTransport({
    requireTLS: !secure && !plainTextAllowed(parsed),
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? (secure ? 465 : 587) : Number(parsed.port),
    secure,
    auth:
      parsed.username === ''
        ? undefined
        : { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) },
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    async send(envelope) {
      await transporter.sendMail(message(envelope));
    },
    close: () => transporter.close(),
  };
}

function plainTextAllowed(url: URL): boolean {
  if (url.searchParams.get('tls') === 'none') return true;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/**
 * The embedded default: each message written to `dir` as an `.eml` file that any mail program
 * opens. Readable by the owner only (mode 0600): a reset link in it is as good as the password.
 */
export function fileTransport(dir: string): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(envelope) {
      const info = await transporter.sendMail(message(envelope));
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const stamp = new Date().toISOString().replaceAll(/[:.]/g, '-');
      writeFileSync(join(dir, `${stamp}-${envelope.id}.eml`), info.message as Buffer, { mode: 0o600 });
    },
    close: () => transporter.close(),
  };
}

function message(envelope: Envelope): SendMailOptions {
  return {
    from: envelope.from,
    to: envelope.to,
    subject: envelope.subject,
    text: envelope.text,
    html: envelope.html,
    messageId: `<${envelope.id}@tessera>`,
    // No tracking, no list: a transactional message, and nodemailer adds nothing of its own.
    headers: { 'Auto-Submitted': 'auto-generated' },
    disableUrlAccess: true,
    disableFileAccess: true,
  };
}
