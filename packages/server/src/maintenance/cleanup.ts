import { setImmediate as yieldToRequests } from 'node:timers/promises';
import { NOTHING_PURGED, type PurgeCounts, type PurgeCutoffs } from '../stores/purge.ts';
import type { Store } from '../stores/store.ts';

export interface CleanupSettings {
  /** Seconds audit entries are kept (`TESSERA_AUDIT_RETENTION`). */
  auditRetention: number;
  /** The clock-skew leeway in ms: a token is usable until `exp` plus this. */
  skewMs: number;
  /** Rows of each kind per batch; a batch is one short write. */
  batchSize?: number;
  /** Batches per sweep at most; what is left waits for the next sweep. */
  maxBatches?: number;
}

/** What one sweep deleted, by kind; `skipped` when another instance held the cleanup lock. */
export interface SweepResult extends PurgeCounts {
  batches: number;
  skipped: boolean;
}

/**
 * 200 rows of each kind. On SQLite a batch runs on the event loop, commit and fsync included, so
 * its length is the most a request waits behind it: measured in-process on the shared 2-core
 * machine, with 20,000 dead sessions, a median 58 ms for 500 rows, 28 ms for 200, 17 ms for 100,
 * about the same total.
 */
const DEFAULT_BATCH_SIZE = 200;
/**
 * 400,000 rows a sweep at most: above what a minute at the refresh target (3,000 rotations/s, each
 * a token that must eventually go) leaves, so the job keeps up; a larger backlog takes more sweeps.
 */
const DEFAULT_MAX_BATCHES = 2000;
const MAIL_KEPT_MS = 24 * 3600_000;
const PURGED_KINDS = Object.keys(NOTHING_PURGED) as (keyof PurgeCounts)[];

/**
 * The cleanup job (issue 12 §2): deletes what nothing can use any more, so a busy deployment's
 * database stops growing after the longest lifetime. It works in small batches with a turn of the
 * event loop between them, so requests queued meanwhile run before the next batch: on SQLite a
 * batch is one short write transaction among the request's group commits, never a long lock.
 */
export class Cleanup {
  readonly #store: Store;
  readonly #settings: Required<CleanupSettings>;

  constructor(store: Store, settings: CleanupSettings) {
    this.#store = store;
    this.#settings = {
      batchSize: DEFAULT_BATCH_SIZE,
      maxBatches: DEFAULT_MAX_BATCHES,
      ...settings,
    };
  }

  /** The instants before which each kind of row is of no more use, at `now`. */
  cutoffs(now: number): PurgeCutoffs {
    // A token is accepted until `exp` plus the leeway, here and at verifiers: what refers to it
    // (its session, its revocation entry) stays until then.
    const usable = now - this.#settings.skewMs;
    return {
      sessions: usable,
      revocations: usable,
      counters: now,
      audit: now - this.#settings.auditRetention * 1000,
      oneTimeTokens: now,
      // A day of delivered (blanked) rows: enough to answer "was it sent?" from the database.
      mail: now - MAIL_KEPT_MS,
    };
  }

  /**
   * Runs batches until one finds less than a full batch of every kind, the cap is reached, or
   * `signal` aborts (shutdown): then it stops between two batches, never inside one.
   */
  async sweep(now: number, signal?: AbortSignal): Promise<SweepResult> {
    const { batchSize, maxBatches } = this.#settings;
    const cutoffs = this.cutoffs(now);
    const total: SweepResult = { ...NOTHING_PURGED, batches: 0, skipped: false };
    while (total.batches < maxBatches && signal?.aborted !== true) {
      const batch = await this.#store.purgeExpired(cutoffs, batchSize);
      if (batch === null) return { ...total, skipped: true };
      total.batches += 1;
      for (const kind of PURGED_KINDS) total[kind] += batch[kind];
      if (PURGED_KINDS.every((kind) => batch[kind] < batchSize)) break;
      await yieldToRequests();
    }
    return total;
  }
}
