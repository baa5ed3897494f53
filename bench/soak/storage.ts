import { existsSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import type { Check } from './verify.ts';

/**
 * What the SQLite file holds during a soak with short lifetimes (issue 12 §2), read from a
 * read-only connection of the soak's own: rows of the tables the cleanup job keeps bounded, and
 * the bytes of the file and of its WAL.
 */
export interface StorageSample {
  at: number;
  rows: number;
  /** Rows ever inserted into those tables (their largest rowid: rowids only grow here). */
  written: number;
  /** The database file itself: what the rows take, and what the job must keep from growing. */
  bytes: number;
  /**
   * Its write-ahead log, reported apart: SQLite reuses it from the start after each checkpoint
   * (every 1,000 pages) without truncating it, so its size is a high-water mark of about 4 MiB
   * whatever the data, and added to the file it hid the file's growth in a short run.
   */
  walBytes: number;
}

const COUNTED = ['sessions', 'refresh_tokens', 'audit_log'];

export function sampleStorage(file: string, at: number): StorageSample | undefined {
  if (!existsSync(file)) return undefined;
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    let rows = 0;
    let written = 0;
    for (const table of COUNTED) {
      const counted = db.prepare(`SELECT count(*) AS n, coalesce(max(rowid), 0) AS w FROM ${table}`).get();
      rows += Number(counted?.['n']);
      written += Number(counted?.['w']);
    }
    const wal = `${file}-wal`;
    return {
      at,
      rows,
      written,
      bytes: statSync(file).size,
      walBytes: existsSync(wal) ? statSync(wal).size : 0,
    };
  } finally {
    db.close();
  }
}

/**
 * Rows and bytes stop growing once every lifetime has passed. From `settledAt` on, the samples are
 * split in halves and the largest value of the later half is compared with the earlier half's:
 * - rows: the growth must stay under `rowShare` of the rows written over the whole steady window.
 *   Without cleanup every row written stays, so the growth is about half of them; with it the rows
 *   follow the request rate alone (a rate 25 % higher in the later half, as a busy machine gives,
 *   is 25 % more live rows, and a fixed limit on the count itself failed on that);
 * - bytes of the database file: at most `slack` above (freed pages are reused or handed back).
 * Measured, 60 s at `--lifetime 8s`: without the job rows +45 % and the file +20 %; with it the
 * rows grew by a few percent of those written and the file by under 5 %.
 */
export function storageBounded(
  samples: StorageSample[],
  settledAt: number,
  { slack = 0.15, rowShare = 0.25 } = {},
): Check[] {
  const steady = samples.filter((sample) => sample.at >= settledAt);
  if (steady.length < 4) {
    return [
      {
        name: 'rows and database file bounded after the lifetimes',
        ok: false,
        detail: `too few samples after ${settledAt}s (${samples.length} in all)`,
      },
    ];
  }
  const half = Math.floor(steady.length / 2);
  const peaks = (pick: (sample: StorageSample) => number): [number, number] => [
    Math.max(...steady.slice(0, half).map(pick)),
    Math.max(...steady.slice(half).map(pick)),
  ];
  const [rowsBefore, rowsAfter] = peaks((sample) => sample.rows);
  const written = steady.at(-1)!.written - steady[0]!.written;
  const [bytesBefore, bytesAfter] = peaks((sample) => sample.bytes);
  const mib = (n: number): string => `${(n / 2 ** 20).toFixed(2)} MiB`;
  return [
    {
      name: 'session, token and audit rows bounded after the lifetimes',
      ok: rowsAfter - rowsBefore <= rowShare * written,
      detail: `max ${rowsBefore} then ${rowsAfter} while ${written} were written (growth limit ${(rowShare * 100).toFixed(0)} % of those)`,
    },
    {
      name: 'database file bounded after the lifetimes',
      ok: bytesAfter <= bytesBefore * (1 + slack),
      detail: `max ${mib(bytesBefore)} then ${mib(bytesAfter)} (limit +${(slack * 100).toFixed(0)} %)`,
    },
  ];
}
