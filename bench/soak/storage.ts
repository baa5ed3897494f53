import { existsSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import type { Check } from './verify.ts';

/**
 * What the SQLite file holds during a soak with short lifetimes (issue 12 §2), read from a
 * read-only connection of the soak's own: rows of the tables the cleanup job keeps bounded, and
 * the bytes of the file and its WAL.
 */
export interface StorageSample {
  at: number;
  rows: number;
  bytes: number;
}

const COUNTED = ['sessions', 'refresh_tokens', 'audit_log'];

export function sampleStorage(file: string, at: number): StorageSample | undefined {
  if (!existsSync(file)) return undefined;
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    let rows = 0;
    for (const table of COUNTED)
      rows += Number(db.prepare(`SELECT count(*) AS n FROM ${table}`).get()?.['n']);
    const wal = `${file}-wal`;
    const bytes = statSync(file).size + (existsSync(wal) ? statSync(wal).size : 0);
    return { at, rows, bytes };
  } finally {
    db.close();
  }
}

/**
 * Rows and bytes stop growing once every lifetime has passed: after `settledAt`, the largest value
 * of the later half of the samples is at most `slack` above the largest of the earlier half. Under
 * steady load a store without cleanup grows linearly and fails this by the second half's writes
 * (measured, 60 s at `--lifetime 8s`: rows +45 %, file +20 % without the job; -4 % and +5 % with it).
 */
export function storageBounded(samples: StorageSample[], settledAt: number, slack = 0.15): Check[] {
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
  const judge = (
    name: string,
    pick: (sample: StorageSample) => number,
    unit: (n: number) => string,
  ): Check => {
    const earlier = Math.max(...steady.slice(0, half).map(pick));
    const later = Math.max(...steady.slice(half).map(pick));
    return {
      name,
      ok: later <= earlier * (1 + slack),
      detail: `max ${unit(earlier)} then ${unit(later)} (limit +${(slack * 100).toFixed(0)} %)`,
    };
  };
  return [
    judge('session, token and audit rows bounded after the lifetimes', (s) => s.rows, String),
    judge(
      'database file bounded after the lifetimes',
      (s) => s.bytes,
      (n) => `${(n / 2 ** 20).toFixed(2)} MiB`,
    ),
  ];
}
