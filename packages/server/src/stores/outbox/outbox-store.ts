/**
 * The mail outbox (issue 13): a message is committed with the write that caused it and delivered
 * afterwards by `MailSender`, with retries, so an SMTP outage loses nothing. Claims are leases:
 * with several instances on one database each due message is handed to one of them at a time.
 */
export interface OutboxStore {
  /**
   * Up to `limit` queued messages due at `now` and not leased by another sender, leased to the
   * caller until `leaseUntil` and counted as one more attempt. Oldest due first.
   */
  claimDue(now: number, leaseUntil: number, limit: number): Promise<OutboxRecord[]>;
  /**
   * What happened to a claimed message. `sent` and `given_up` are final and erase its subject and
   * bodies (which may hold a link's token); `retry` queues it again from `nextAttemptAt`.
   */
  settle(id: string, outcome: OutboxOutcome, now: number): Promise<void>;
  /**
   * Extends the lease of a queued message still being delivered to `leaseUntil` (never shortens
   * it), so a slow delivery is not handed to another sender while it runs. `false` when the message
   * is no longer queued.
   */
  renewLease(id: string, leaseUntil: number): Promise<boolean>;
  /** Messages not yet settled (`/metrics`: `tessera_mail_queued`). */
  countQueued(): Promise<number>;
}

/** A message as queued: rendered (subject and both bodies) when the request made it. */
export interface OutboxMessage {
  id: string;
  /** One address, already validated and canonical. */
  recipient: string;
  /** Which message it is (`password_reset`): for logs and metrics, never the content. */
  template: string;
  subject: string;
  text: string;
  html: string;
  createdAt: number;
  /**
   * When what the message carries dies (a link's token): not sent from then on but given up, so a
   * message delayed by an outage never delivers a dead link, and a live token's mail leaves the
   * database by then at the latest. `null` (a notice): only the sender's give-up time bounds it.
   */
  expiresAt: number | null;
}

export type OutboxState = 'queued' | 'sent' | 'given_up';

export interface OutboxRecord extends OutboxMessage {
  state: OutboxState;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}

export type OutboxOutcome =
  | { kind: 'sent' }
  /** `error` is a short, secret-free reason (an SMTP response code, a network error code). */
  | { kind: 'retry'; nextAttemptAt: number; error: string }
  | { kind: 'given_up'; error: string };
