import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { TesseraApp } from '../../src/index.ts';

/** A message as the test SMTP server received it over TCP. */
export interface Received {
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  raw: string;
}

/**
 * A real SMTP server in the test process (`smtp-server`, from the nodemailer project): Tessera
 * delivers to it over loopback TCP as to any mail server. It can be stopped and started again on
 * the same port (an outage), and told to refuse recipients (a permanent failure).
 */
export class Mailbox {
  readonly messages: Received[] = [];
  /** Recipients answered `550` at `RCPT TO`. */
  readonly refuse = new Set<string>();
  #server: SMTPServer | undefined;
  #port = 0;

  static async start(): Promise<Mailbox> {
    const mailbox = new Mailbox();
    await mailbox.resume();
    return mailbox;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.#port}`;
  }

  /** Listens (again, on the same port after `stop`). */
  async resume(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo: (address, _session, callback) => {
        if (this.refuse.has(address.address)) {
          const error = Object.assign(new Error('mailbox unavailable'), { responseCode: 550 });
          callback(error);
          return;
        }
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw)
            .then((mail) => {
              this.messages.push(
                received(
                  mail,
                  raw,
                  session.envelope.rcptTo.map((rcpt) => rcpt.address),
                ),
              );
              callback();
            })
            .catch((error: unknown) => callback(error as Error));
        });
      },
    });
    server.listen(this.#port, '127.0.0.1');
    await once(server.server, 'listening');
    this.#port = (server.server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Closes the listener and every open connection: Tessera's next delivery fails. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The messages to `address`, waiting up to `ms` for at least `count` of them. */
  async waitFor(address: string, count = 1, ms = 5000): Promise<Received[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.to(address);
      if (found.length >= count || Date.now() > deadline) return found;
      await sleep(20);
    }
  }

  to(address: string): Received[] {
    return this.messages.filter((message) => message.to.includes(address));
  }
}

function received(mail: ParsedMail, raw: string, to: string[]): Received {
  return {
    to,
    from: mail.from?.text ?? '',
    subject: mail.subject ?? '',
    text: mail.text ?? '',
    html: typeof mail.html === 'string' ? mail.html : '',
    messageId: mail.messageId ?? '',
    raw,
  };
}

/** The token of a mail's link to `page` (`…/<page>#token=…`), from its text part. */
export function linkTokenOf(message: Received, page = 'reset-password'): string {
  const match = new RegExp(`/${page}#token=([A-Za-z0-9_-]+)`).exec(message.text);
  if (!match) throw new Error(`no ${page} link in: ${message.text}`);
  return match[1]!;
}

/** The reset token of a reset mail's link (`…/reset-password#token=…`). */
export const resetTokenOf = (message: Received): string => linkTokenOf(message, 'reset-password');

/** Everything an app does after answering (lookups, tokens, deliveries) is done. */
export async function settled(apps: ReadonlyArray<{ app: TesseraApp }>): Promise<void> {
  for (const { app } of apps) await app.tessera.recovery.idle();
  await Promise.all(
    apps.map(async ({ app }) => {
      app.tessera.mail.nudge();
      await app.tessera.mail.idle();
    }),
  );
}
