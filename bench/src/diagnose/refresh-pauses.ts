/**
 * Why refresh p99 sits where it does: `node bench/src/diagnose/refresh-pauses.ts [RS256|ES256]`.
 * Runs the refresh load of case 3 (50 connections, every request a fresh refresh token) against
 * `tessera serve` on SQLite, with pause-recorder.ts loaded into the server, and prints the
 * rotation rate and latency beside the server's event-loop delay and garbage-collection pauses
 * over the same seconds. A diagnosis for docs/design.md, not a case of the results page.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rotatingRefresh, topUp } from '../cases/refresh.ts';
import { load } from '../load/load.ts';
import { signup, startTessera } from '../servers/tessera.ts';

const alg = process.argv[2] ?? 'ES256';
const seconds = Number(process.argv[3] ?? 8);
const dir = mkdtempSync(join(tmpdir(), 'tessera-pauses-'));
const file = join(dir, 'pauses.json');
const recorder = join(import.meta.dirname, 'pause-recorder.ts');
const tessera = await startTessera({
  TESSERA_SIGNING_ALG: alg,
  NODE_OPTIONS: `--import ${recorder}`,
  BENCH_PAUSES_FILE: file,
});
try {
  await signup(tessera.url, 'bench@example.test');
  const pool: string[] = [];
  const topUpPool = () => topUp(tessera.url, pool, 100);
  const options = (duration: number) => ({
    url: tessera.url,
    connections: 50,
    duration,
    requests: [rotatingRefresh(pool)],
  });
  await topUpPool();
  await load(options(3));
  await topUpPool();
  if (tessera.pid !== undefined) process.kill(tessera.pid, 'SIGUSR2');
  const sample = await load(options(seconds));
  await tessera.stop();
  const pauses = JSON.parse(readFileSync(file, 'utf8')) as {
    eventLoopDelayMs: { p50: number; p99: number; max: number };
    gc: Record<string, { count: number; totalMs: number; maxMs: number }>;
  };
  const f = (value: number) => value.toFixed(1);
  process.stdout.write(
    `${alg}, SQLite, 50 connections, ${seconds} s after a 3 s warm-up: ${Math.round(sample.requestsPerSecond)} rotations/s, p50 ${sample.p50} ms, p99 ${sample.p99} ms\n` +
      `event-loop delay: p50 ${f(pauses.eventLoopDelayMs.p50)} ms, p99 ${f(pauses.eventLoopDelayMs.p99)} ms, max ${f(pauses.eventLoopDelayMs.max)} ms\n` +
      Object.entries(pauses.gc)
        .map(
          ([kind, gc]) =>
            `GC ${kind}: ${gc.count} pauses (${f(gc.count / seconds)}/s), ${f(gc.totalMs)} ms in all (${f((gc.totalMs / (seconds * 1000)) * 100)} % of the time), longest ${f(gc.maxMs)} ms\n`,
        )
        .join(''),
  );
} finally {
  await tessera.stop();
  rmSync(dir, { recursive: true, force: true });
}
