import type { Row, Value } from './rows.ts';

/**
 * One statement of a plan, written with PostgreSQL's `$n` parameters (SQLite binds `?n` the same,
 * see `forSqlite`). `sqlite` replaces the text where the dialects differ (`FOR UPDATE`); it too
 * is written with `$n`.
 */
export interface Query {
  sql: string;
  params: Value[];
  sqlite?: string;
}

/**
 * A transaction's logic written once for both SQL stores: a generator that yields each statement
 * and is handed back its rows. SQLite runs it synchronously inside one group-commit write (it
 * never yields the event loop mid-transaction); PostgreSQL runs it with an `await` per statement
 * inside `BEGIN … COMMIT`. A plan that throws rolls the whole transaction back in both.
 */
export type SqlPlan<T> = Generator<Query, T, Row[]>;

/** What a store part needs of the SQL store it lives in. */
export interface PlanRunner {
  /** Runs a plan in one transaction. */
  runPlan<T>(plan: () => SqlPlan<T>): Promise<T>;
  /**
   * Runs one statement, atomic by itself: a `read` outside any transaction; a `write` on
   * PostgreSQL without `BEGIN … COMMIT` around it (one round trip, not three), on SQLite in the
   * group commit like any write (acknowledged once durable).
   */
  runStatement(query: Query, kind: 'read' | 'write'): Promise<Row[]>;
}

export function runPlanSync<T>(plan: SqlPlan<T>, execute: (query: Query) => Row[]): T {
  let step = plan.next();
  while (!step.done) step = plan.next(execute(step.value));
  return step.value;
}

export async function runPlanAsync<T>(
  plan: SqlPlan<T>,
  execute: (query: Query) => Promise<Row[]>,
): Promise<T> {
  let step = plan.next();
  while (!step.done) step = plan.next(await execute(step.value));
  return step.value;
}
