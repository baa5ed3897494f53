import type { OutboxRecord, OutboxStore } from '../stores/outbox/outbox-store.ts';
import type { MailTransport } from './transport.ts';

export interface MailSenderOptions {
  from: string;
  now(): number;
  /** How long one sender holds a claimed message before another may try it (ms). */
  leaseMs?: number;
  /** How often the outbox is read for due messages, besides when one is queued (ms). */
  pollMs?: number;
  /** A message still undelivered this long after it was queued is given up (ms). */
  giveUpAfterMs?: number;
  /** Told of each delivery outcome: metrics and the log (never a message's content). */
  report?(event: MailEvent): void;
}

export type MailEvent =
  | { kind: 'sent'; message: OutboxRecord }
  | { kind: 'failed'; message: OutboxRecord; error: string; nextAttemptAt: number }
  | { kind: 'given_up'; message: OutboxRecord; error: string };

/** First retry after 5 s, doubling, at most 10 minutes apart. */
const FIRST_RETRY_MS = 5000;
const MAX_RETRY_MS = 10 * 60_000;

/**
 * Delivers the outbox (issue 13): reads due messages, sends each, records what happened. A failed
 * delivery is retried with backoff until `giveUpAfterMs` (default a day) has passed since it was
 * queued, so mail queued during an SMTP outage goes out when the server is back, without a
 * restart. Claims are leases in the store, so with several instances a message is sent by one.
 * Delivery is at least once: an instance that dies after the SMTP server took a message but before
 * recording it leaves it to be sent again when its lease ends.
 */
export class MailSender {
  readonly #outbox: OutboxStore;
  readonly #transport: MailTransport;
  readonly #options: Required<Omit<MailSenderOptions, 'report'>> & Pick<MailSenderOptions, 'report'>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(outbox: OutboxStore, transport: MailTransport, options: MailSenderOptions) {
    this.#outbox = outbox;
    this.#transport = transport;
    this.#options = {
      leaseMs: 60_000,
      pollMs: 5000,
      giveUpAfterMs: 24 * 3600_000,
      ...options,
    };
  }

  /** Starts polling the outbox. */
  start(): void {
    this.#timer = setInterval(() => this.nudge(), this.#options.pollMs);
    this.#timer.unref();
  }

  /** Reads the outbox soon (a message was just queued); never two reads at once. */
  nudge(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.nudge();
      }
    });
  }

  /** Resolves when no read of the outbox is in progress (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stops polling and waits for the delivery in progress; the transport is closed after it. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.idle();
    this.#transport.close();
  }

  async #drain(): Promise<void> {
    try {
      // One message per claim: its lease starts when its own delivery does, so a slow relay
      // cannot run a batch's later messages past their lease and let another sender take them.
      while (!this.#stopped) {
        const now = this.#options.now();
        const [message] = await this.#outbox.claimDue(now, now + this.#options.leaseMs, 1);
        if (message === undefined) return;
        await this.#deliver(message);
      }
    } catch {
      // The store is unreachable: the next poll tries again; nothing was lost.
    }
  }

  async #deliver(message: OutboxRecord): Promise<void> {
    const { from, now, giveUpAfterMs, report } = this.#options;
    if (message.expiresAt !== null && now() >= message.expiresAt) {
      // Its link is dead: sending it would only tell the person of a link that cannot work.
      await this.#outbox.settle(message.id, { kind: 'given_up', error: 'EXPIRED' }, now());
      report?.({ kind: 'given_up', message, error: 'EXPIRED' });
      return;
    }
    // The lease is renewed while the delivery runs (a slow relay, a large queue at the relay): no
    // other sender takes the message meanwhile, and its outcome is recorded from what happened,
    // so a delivery that is slow but succeeds is sent once, not once per lease.
    let renewing: Promise<unknown> = Promise.resolve();
    const renew = setInterval(() => {
      renewing = this.#outbox.renewLease(message.id, now() + this.#options.leaseMs).catch(() => false);
    }, this.#options.leaseMs / 3);
    const failure = await this.#transport.send({ ...message, from, to: message.recipient }).then(
      () => null,
      (error: unknown) => ({ error }),
    );
    clearInterval(renew);
    await renewing; // a renewal landing after the settle would hold a retry back by a lease
    if (failure !== null) {
      const { error } = failure;
      const reason = describe(error);
      const at = now();
      if (rejectsRecipient(error) || at - message.createdAt >= giveUpAfterMs) {
        await this.#outbox.settle(message.id, { kind: 'given_up', error: reason }, at);
        report?.({ kind: 'given_up', message, error: reason });
        return;
      }
      const nextAttemptAt = at + Math.min(FIRST_RETRY_MS * 2 ** (message.attempts - 1), MAX_RETRY_MS);
      await this.#outbox.settle(message.id, { kind: 'retry', nextAttemptAt, error: reason }, at);
      report?.({ kind: 'failed', message, error: reason, nextAttemptAt });
      return;
    }
    await this.#outbox.settle(message.id, { kind: 'sent' }, now());
    report?.({ kind: 'sent', message });
  }
}

/**
 * A short reason without secrets: nodemailer's error code and the SMTP reply code, never the
 * message text (which may echo the envelope or the server's banner).
 */
function describe(error: unknown): string {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  const parts = [typeof code === 'string' ? code : 'ERROR'];
  if (typeof responseCode === 'number') parts.push(String(responseCode));
  return parts.join(' ');
}

/** The SMTP server refused the recipient for good (5xx to RCPT TO): retrying cannot help. */
function rejectsRecipient(error: unknown): boolean {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  return code === 'EENVELOPE' && typeof responseCode === 'number' && responseCode >= 500;
}
