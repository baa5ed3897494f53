import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine } from './machine.ts';

/** Where each run's JSON goes. */
export const RESULTS_DIR = join(import.meta.dirname, '..', 'results');

/** One case's outcome within a run file. */
export interface CaseRecord {
  name: string;
  startedAt: string;
  durationSeconds: number;
  result: unknown;
}

/** The content of one run's JSON file. */
export interface RunRecord {
  startedAt: string;
  quick: boolean;
  command: string;
  machine: Machine;
  cases: CaseRecord[];
}

/** Writes a run to `results/<time>[-quick].json` and returns the path. */
export function saveRun(run: RunRecord): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${run.startedAt.replace(/[:.]/g, '-')}${run.quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  return file;
}

/**
 * The latest full (not quick) record of each case across every stored run, with the run it came
 * from: `npm run bench -- refresh` then updates only the refresh section of the page.
 */
export function latestRecords(): Map<string, { run: RunRecord; record: CaseRecord }> {
  const latest = new Map<string, { run: RunRecord; record: CaseRecord }>();
  const files = readdirSync(RESULTS_DIR)
    .filter((file) => file.endsWith('.json') && !file.endsWith('-quick.json'))
    .sort();
  for (const file of files) {
    const run = JSON.parse(readFileSync(join(RESULTS_DIR, file), 'utf8')) as RunRecord;
    for (const record of run.cases) latest.set(record.name, { run, record });
  }
  return latest;
}
