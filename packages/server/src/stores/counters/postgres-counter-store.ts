import type { Row } from '../rows.ts';
import type { PlanRunner } from '../sql-plan.ts';
import type { Counter, CounterStore } from './counter-store.ts';

/**
 * Counters in PostgreSQL, shared by every instance. Windows that are over are deleted by the
 * cleanup job (`PURGE_COUNTERS`), in bounded batches on one instance, so keys an attacker cycles
 * through do not pile up.
 */
export class PostgresCounterStore implements CounterStore {
  readonly #sql: PlanRunner;

  constructor(sql: PlanRunner) {
    this.#sql = sql;
  }

  async hit(key: string, windowMs: number, now: number): Promise<Counter> {
    // One statement, atomic under concurrency from every instance: the row lock taken by the
    // conflict makes concurrent hits queue, and each sees the count the previous one left.
    const [row] = await this.#sql.runStatement(
      {
        sql: `INSERT INTO rate_counters AS c (key, count, reset_at) VALUES ($1, 1, $2::bigint + $3::bigint)
              ON CONFLICT (key) DO UPDATE SET
                count = CASE WHEN c.reset_at > $2 THEN c.count + 1 ELSE 1 END,
                reset_at = CASE WHEN c.reset_at > $2 THEN c.reset_at ELSE EXCLUDED.reset_at END
              RETURNING count, reset_at`,
        params: [key, now, windowMs],
      },
      'write',
    );
    return counterFromRow(row!);
  }

  async peek(key: string, now: number): Promise<Counter | null> {
    const [row] = await this.#sql.runStatement(
      {
        sql: 'SELECT count, reset_at FROM rate_counters WHERE key = $1 AND reset_at > $2',
        params: [key, now],
      },
      'read',
    );
    return row ? counterFromRow(row) : null;
  }

  async clear(key: string): Promise<void> {
    await this.#sql.runStatement({ sql: 'DELETE FROM rate_counters WHERE key = $1', params: [key] }, 'write');
  }
}

function counterFromRow(row: Row): Counter {
  return { count: Number(row['count']), resetAt: Number(row['reset_at']) };
}
