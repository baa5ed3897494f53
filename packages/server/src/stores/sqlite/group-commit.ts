import type { DatabaseSync, StatementSync } from 'node:sqlite';

interface QueuedWrite {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

type Control = Record<'begin' | 'savepoint' | 'release' | 'rollbackTo' | 'commit', StatementSync>;

/**
 * Group commit for a synchronous SQLite connection. Under `synchronous = FULL` every COMMIT waits
 * for an fsync of the WAL, on the main thread; one transaction per write made that fsync the
 * ceiling of every write path (and stalled every other request while it ran). Instead, the writes
 * requested during one event-loop turn are queued and applied together at the end of it
 * (`setImmediate`): one `BEGIN IMMEDIATE`, each write in its own SAVEPOINT, one COMMIT — one fsync
 * for all of them. Under load the batch grows by itself: requests that arrive during a commit are
 * read in the next turn and commit together.
 *
 * What each caller is promised does not change:
 * - a write's promise settles only after the COMMIT that holds it returned, so an acknowledged
 *   write survives power loss exactly as before;
 * - writes run one after another, in request order, each seeing the effect of the writes before
 *   it in the same batch (two rotations of one token in one batch: the second sees the first);
 * - a write that throws is rolled back to its savepoint and rejects alone; the others commit;
 * - if the transaction itself fails (the lock not obtained, an I/O error, COMMIT refused), nothing
 *   of the batch is written and every write of it rejects.
 */
export class GroupCommit {
  readonly #db: DatabaseSync;
  readonly #toError: (error: unknown) => unknown;
  #queue: QueuedWrite[] = [];
  #control: Control | undefined;

  /** `toError` maps what a write or the transaction threw to what its caller sees. */
  constructor(db: DatabaseSync, toError: (error: unknown) => unknown) {
    this.#db = db;
    this.#toError = toError;
  }

  /** Runs `work` (synchronous) in the next group transaction; resolves once that has committed. */
  run<T>(work: () => T): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
    if (this.#queue.length === 1) setImmediate(() => this.flush());
    return promise;
  }

  /** Applies and commits every queued write now (also before the database is closed). */
  flush(): void {
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    let settled: Settled[];
    try {
      settled = this.#apply(batch);
    } catch (error) {
      this.#abandon();
      for (const write of batch) write.reject(this.#toError(error));
      return;
    }
    batch.forEach((write, index) => {
      const outcome = settled[index] as Settled;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(this.#toError(outcome.error));
    });
  }

  /** The batch in one transaction; throws (having committed nothing) when the transaction fails. */
  #apply(batch: readonly QueuedWrite[]): Settled[] {
    const sql = this.#prepared();
    sql.begin.run();
    const settled: Settled[] = [];
    for (const write of batch) {
      sql.savepoint.run();
      let value: unknown;
      try {
        value = write.work();
      } catch (error) {
        // Some errors (I/O, disk full) make SQLite roll the whole transaction back: the writes
        // before this one are gone too, so the batch fails as a whole.
        if (!this.#db.isTransaction) throw error;
        sql.rollbackTo.run();
        sql.release.run();
        settled.push({ ok: false, error });
        continue;
      }
      sql.release.run();
      settled.push({ ok: true, value });
    }
    sql.commit.run();
    return settled;
  }

  /** Rolls back what is left of a failed transaction; the batch is failing already. */
  #abandon(): void {
    try {
      if (this.#db.isOpen && this.#db.isTransaction) this.#db.exec('ROLLBACK');
    } catch {
      // Nothing more to undo: SQLite rolls back an unfinished transaction when it cannot go on.
    }
  }

  #prepared(): Control {
    this.#control ??= {
      begin: this.#db.prepare('BEGIN IMMEDIATE'),
      savepoint: this.#db.prepare('SAVEPOINT write'),
      release: this.#db.prepare('RELEASE write'),
      rollbackTo: this.#db.prepare('ROLLBACK TO write'),
      commit: this.#db.prepare('COMMIT'),
    };
    return this.#control;
  }
}
