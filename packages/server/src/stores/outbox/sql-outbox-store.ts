import type { Row, Value } from '../rows.ts';
import type { PlanRunner, Query, SqlPlan } from '../sql-plan.ts';
import type { OutboxMessage, OutboxOutcome, OutboxRecord, OutboxState, OutboxStore } from './outbox-store.ts';

const OUTBOX_COLUMNS =
  'id, recipient, template, subject, text_body, html_body, created_at, next_attempt_at, expires_at';

/** The statement that queues `message`, for a plan that commits it with its cause's write. */
export function enqueueMail(message: OutboxMessage): Query {
  const params: Value[] = [
    message.id,
    message.recipient,
    message.template,
    message.subject,
    message.text,
    message.html,
    message.createdAt,
    message.createdAt,
    message.expiresAt,
  ];
  return {
    sql: `INSERT INTO mail_outbox (${OUTBOX_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    params,
  };
}

/** The outbox of either SQL store, as plans (`sql-plan.ts`). */
export class SqlOutboxStore implements OutboxStore {
  readonly #sql: PlanRunner;

  constructor(sql: PlanRunner) {
    this.#sql = sql;
  }

  claimDue(now: number, leaseUntil: number, limit: number): Promise<OutboxRecord[]> {
    return this.#sql.runPlan(() => claimPlan(now, leaseUntil, limit));
  }

  settle(id: string, outcome: OutboxOutcome, now: number): Promise<void> {
    return this.#sql.runPlan(() => settlePlan(id, outcome, now));
  }

  async renewLease(id: string, leaseUntil: number): Promise<boolean> {
    const renewed = await this.#sql.runStatement(
      {
        sql: `UPDATE mail_outbox SET leased_until = $2 WHERE id = $1 AND state = 'queued' AND leased_until < $2
              RETURNING id`,
        params: [id, leaseUntil],
      },
      'write',
    );
    return renewed.length === 1;
  }

  countQueued(): Promise<number> {
    return this.#sql.runPlan(function* () {
      const [row] = yield {
        sql: `SELECT COUNT(*) AS queued FROM mail_outbox WHERE state = 'queued'`,
        params: [],
      };
      return Number(row?.['queued'] ?? 0);
    });
  }
}

function* claimPlan(now: number, leaseUntil: number, limit: number): SqlPlan<OutboxRecord[]> {
  const due = `SELECT id FROM mail_outbox
       WHERE state = 'queued' AND next_attempt_at <= $1 AND leased_until <= $1
       ORDER BY next_attempt_at LIMIT $3`;
  // PostgreSQL: rows another instance is claiming right now are skipped, not waited for, so two
  // senders never get one message (SQLite's write lock serialises the claims by itself).
  const claim = (select: string): string => `UPDATE mail_outbox SET leased_until = $2, attempts = attempts + 1
       WHERE id IN (${select}) RETURNING *`;
  const rows = yield {
    sql: claim(`${due} FOR UPDATE SKIP LOCKED`),
    sqlite: claim(due),
    params: [now, leaseUntil, limit],
  };
  return rows.map(outboxFromRow).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt);
}

function* settlePlan(id: string, outcome: OutboxOutcome, now: number): SqlPlan<void> {
  if (outcome.kind === 'retry') {
    yield {
      sql: `UPDATE mail_outbox SET next_attempt_at = $2, leased_until = 0, last_error = $3
            WHERE id = $1 AND state = 'queued'`,
      params: [id, outcome.nextAttemptAt, outcome.error.slice(0, 200)],
    };
    return;
  }
  const state: OutboxState = outcome.kind;
  const error = outcome.kind === 'given_up' ? outcome.error.slice(0, 200) : null;
  // Final: the content goes (a reset link's token must not outlive its delivery in the database).
  yield {
    sql: `UPDATE mail_outbox SET state = $2, settled_at = $3, last_error = $4, leased_until = 0,
            subject = '', text_body = '', html_body = ''
          WHERE id = $1 AND state = 'queued'`,
    params: [id, state, now, error],
  };
}

function outboxFromRow(row: Row): OutboxRecord {
  const text = (name: string): string => {
    const value = row[name];
    return typeof value === 'string' ? value : '';
  };
  return {
    id: text('id'),
    recipient: text('recipient'),
    template: text('template'),
    subject: text('subject'),
    text: text('text_body'),
    html: text('html_body'),
    createdAt: Number(row['created_at']),
    expiresAt:
      row['expires_at'] === null || row['expires_at'] === undefined ? null : Number(row['expires_at']),
    state: text('state') as OutboxState,
    attempts: Number(row['attempts']),
    nextAttemptAt: Number(row['next_attempt_at']),
    lastError: row['last_error'] === null || row['last_error'] === undefined ? null : text('last_error'),
  };
}
