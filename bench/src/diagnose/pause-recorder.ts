/**
 * Loaded into a `tessera serve` process with `NODE_OPTIONS=--import <this file>` by
 * refresh-pauses.ts: records event-loop delay and garbage-collection pauses, starts afresh on
 * SIGUSR2 (after the warm-up), and writes its summary as JSON to BENCH_PAUSES_FILE at exit.
 * Nothing of the server is changed; it only watches.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

const KINDS: Record<number, string> = {
  1: 'minor',
  2: 'minor (ms)',
  4: 'major',
  8: 'incremental',
  16: 'weak callbacks',
};
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
let pauses: Array<{ kind: string; ms: number }> = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries() as Array<PerformanceEntry & { detail?: { kind?: number } }>) {
    pauses.push({ kind: KINDS[entry.detail?.kind ?? 0] ?? 'other', ms: entry.duration });
  }
}).observe({ entryTypes: ['gc'] });
process.on('SIGUSR2', () => {
  delay.reset();
  pauses = [];
});
process.on('exit', () => {
  const file = process.env['BENCH_PAUSES_FILE'];
  if (!file) return;
  const gc: Record<string, { count: number; totalMs: number; maxMs: number }> = {};
  for (const { kind, ms } of pauses) {
    const entry = (gc[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
    entry.count += 1;
    entry.totalMs += ms;
    entry.maxMs = Math.max(entry.maxMs, ms);
  }
  const ms = (ns: number) => ns / 1e6;
  writeFileSync(
    file,
    JSON.stringify({
      eventLoopDelayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
      gc,
    }),
  );
});
