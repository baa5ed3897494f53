import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineCase } from '../case.ts';
import { count, ms, table } from '../format.ts';
import { compareLoads, load, loadPlan, type LoadPlan, type LoadSummary } from '../load/load.ts';
import { residentMiB, sampleRss, type RssSummary } from '../load/rss.ts';
import { seededRefreshToken, seedSessions } from '../servers/seed-sessions.ts';
import { login, PASSWORD, signup, startTessera, type TesseraProcess } from '../servers/tessera.ts';
import { rotatingRefresh } from './refresh.ts';

interface UnderLoad {
  name: string;
  what: string;
  requestsPerSecond: number;
  rss: RssSummary;
}

interface AtSessions {
  /** Rows in the sessions table when the server started. */
  sessions: number;
  databaseMiB: number;
  idleMiB: number;
  /** Resident size during the refresh runs at this size. */
  rssUnderRefresh: RssSummary;
  refresh: LoadSummary;
}

export interface MemoryResult {
  /** How long the server was left alone before each idle reading. */
  settleMs: number;
  idleMiB: number;
  loads: UnderLoad[];
  afterLoadsMiB: number;
  connections: number;
  plan: LoadPlan;
  curve: AtSessions[];
}

const FULL_POINTS = [1_000, 10_000, 100_000, 1_000_000];
const QUICK_POINTS = [1_000, 10_000];
// The settle time before an idle reading: start-up garbage collected, timers run once.
const SETTLE_MS = 2_000;
// A quick run (CI) only proves the case works, within the two-minute budget of all quick cases:
// one short run per load, few connections (so few argon2id logins fill the refresh pool).
const QUICK_PLAN: LoadPlan = { warmup: 0.2, duration: 0.5, runs: 1, connections: 10 };
const QUICK_SETTLE_MS = 300;
const LOGIN_CONNECTIONS = 8;

const fileMiB = (file: string): number => {
  try {
    return statSync(file).size / 2 ** 20;
  } catch {
    return 0;
  }
};

function pidOf(server: TesseraProcess): number {
  if (server.pid === undefined) throw new Error('the server has no process id');
  return server.pid;
}

/** Resident size at idle and under each load of the other cases, on a fresh database. */
async function underLoads(
  plan: LoadPlan,
  settleMs: number,
): Promise<Pick<MemoryResult, 'idleMiB' | 'loads' | 'afterLoadsMiB'>> {
  const tessera = await startTessera();
  try {
    const pid = pidOf(tessera);
    await signup(tessera.url, 'bench@example.test');
    const { accessToken } = await login(tessera.url, 'bench@example.test');
    await sleep(settleMs);
    const idleMiB = residentMiB(pid);
    const pool: string[] = [];
    const loads: UnderLoad[] = [];
    const measure = async (name: string, what: string, run: () => ReturnType<typeof load>): Promise<void> => {
      const { value, rss } = await sampleRss(pid, run);
      loads.push({ name, what, requestsPerSecond: value.requestsPerSecond, rss });
    };
    await measure('GET /auth/me', `${plan.connections} connections`, () =>
      load({
        url: `${tessera.url}/auth/me`,
        connections: plan.connections,
        duration: plan.duration,
        headers: { authorization: `Bearer ${accessToken}` },
      }),
    );
    const sessions = plan.connections * 2;
    const logins = await Promise.all(
      Array.from({ length: sessions }, () => login(tessera.url, 'bench@example.test')),
    );
    pool.push(...logins.map((tokens) => tokens.refreshToken));
    await measure(
      'POST /auth/refresh',
      `${plan.connections} connections, ${sessions} sessions rotating`,
      () =>
        load({
          url: tessera.url,
          connections: plan.connections,
          duration: plan.duration,
          requests: [rotatingRefresh(pool)],
        }),
    );
    await measure('POST /auth/login', `${LOGIN_CONNECTIONS} connections (argon2id)`, () =>
      load({
        url: `${tessera.url}/auth/login`,
        method: 'POST',
        connections: LOGIN_CONNECTIONS,
        duration: plan.duration,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'bench@example.test', password: PASSWORD }),
      }),
    );
    await sleep(settleMs);
    return { idleMiB, loads, afterLoadsMiB: residentMiB(pid) };
  } finally {
    await tessera.stop();
  }
}

/**
 * Refresh latency and memory as the sessions table grows: the file is seeded up to each size with
 * the server stopped, then the server starts on it and the refresh runs of case 3 are repeated,
 * presenting seeded refresh tokens picked at random across the whole table.
 */
async function curve(
  points: readonly number[],
  plan: LoadPlan,
  settleMs: number,
  log: (line: string) => void,
): Promise<AtSessions[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-memory-'));
  const file = join(dir, 'tessera.db');
  const settings = { TESSERA_DATABASE_URL: `sqlite:${file}` };
  try {
    const first = await startTessera(settings);
    try {
      await signup(first.url, 'bench@example.test');
    } finally {
      await first.stop();
    }
    const results: AtSessions[] = [];
    const used = new Set<number>();
    let seeded = 0;
    for (const point of points) {
      const started = performance.now();
      const sessions = seedSessions(file, seeded, point);
      seeded = point;
      log(`  seeded ${count(seeded)} sessions in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const databaseMiB = fileMiB(file) + fileMiB(`${file}-wal`);
      const tessera = await startTessera(settings);
      try {
        const pid = pidOf(tessera);
        await sleep(settleMs);
        const idleMiB = residentMiB(pid);
        const pool: string[] = [];
        const topUp = async (): Promise<void> => {
          // Tokens never presented, anywhere in the table; lost ones (in flight at a run's end) replaced.
          while (pool.length < plan.connections * 2) {
            if (used.size >= seeded) throw new Error('memory: every seeded refresh token has been presented');
            const index = Math.floor(Math.random() * seeded);
            if (used.has(index)) continue;
            used.add(index);
            pool.push(seededRefreshToken(index));
          }
        };
        const { value, rss } = await sampleRss(pid, () =>
          compareLoads(
            [
              {
                name: 'refresh',
                before: topUp,
                options: (duration: number) => ({
                  url: tessera.url,
                  connections: plan.connections,
                  duration,
                  requests: [rotatingRefresh(pool)],
                }),
              },
            ],
            plan,
            log,
          ),
        );
        const refresh = value.get('refresh') as LoadSummary;
        results.push({ sessions, databaseMiB, idleMiB, rssUnderRefresh: rss, refresh });
        log(
          `  ${count(sessions)} sessions: ${databaseMiB.toFixed(1)} MiB on disk, RSS ${idleMiB.toFixed(0)} MiB idle, refresh p50 ${refresh.p50} ms p99 ${refresh.p99} ms`,
        );
      } finally {
        await tessera.stop();
      }
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const memoryCase = defineCase<MemoryResult>({
  name: 'memory',
  title: 'Memory and a growing session table',
  command: 'npm run bench -- memory',
  async run(context) {
    const plan = context.quick ? QUICK_PLAN : loadPlan(false);
    const settleMs = context.quick ? QUICK_SETTLE_MS : SETTLE_MS;
    context.log('memory: resident size at idle and under each load');
    const loads = await underLoads(plan, settleMs);
    const points = context.quick ? QUICK_POINTS : FULL_POINTS;
    context.log(`memory: refresh as the session table grows to ${points.map(count).join(', ')}`);
    return {
      ...loads,
      settleMs,
      connections: plan.connections,
      plan,
      curve: await curve(points, plan, settleMs, context.log),
    };
  },
  render(result) {
    const mib = (value: number): string => value.toFixed(1);
    const last = result.curve.at(-1);
    return [
      `Resident set size (VmRSS) of the \`tessera serve\` process, read from /proc every 100 ms while autocannon (in the benchmark process) loads it; SQLite store. Idle is read ${result.settleMs / 1000} s after start-up (one user, one session) and again after the loads.`,
      '',
      table(
        ['server state', 'RSS median MiB', 'RSS peak MiB', 'req/s (2xx)', 'load'],
        [
          ['idle', mib(result.idleMiB), '—', '—', '—'],
          ...result.loads.map((row) => [
            `under ${row.name}`,
            mib(row.rss.medianMiB),
            mib(row.rss.peakMiB),
            count(row.requestsPerSecond),
            `${row.what}, ${result.plan.duration} s`,
          ]),
          ['idle after the loads', mib(result.afterLoadsMiB), '—', '—', '—'],
        ],
      ),
      '',
      `Then the sessions table is grown, with the server stopped, by plain INSERTs into its SQLite file (one user per 100 sessions, each session with one live refresh token, as a login leaves them; not through argon2id logins), and at each size the server is started on the file and the refresh runs of case 3 are repeated (${result.connections} connections, warm-up, then ${result.plan.runs} runs of ${result.plan.duration} s), each request presenting a seeded refresh token picked at random across the whole table. Database size is the file after seeding, before the runs.`,
      '',
      table(
        [
          'sessions',
          'database MiB',
          'RSS idle MiB',
          'RSS peak under refresh MiB',
          'rotations/s (median)',
          'p50 ms',
          'p99 ms',
          'failed',
        ],
        result.curve.map((point) => [
          count(point.sessions),
          mib(point.databaseMiB),
          mib(point.idleMiB),
          mib(point.rssUnderRefresh.peakMiB),
          count(point.refresh.requestsPerSecond.median),
          ms(point.refresh.p50),
          ms(point.refresh.p99),
          String(point.refresh.failures),
        ]),
      ),
      ...(last
        ? [
            '',
            `With ${count(last.sessions)} sessions stored: ${mib(last.databaseMiB)} MiB of database, ${mib(last.idleMiB)} MiB resident at idle.`,
          ]
        : []),
    ].join('\n');
  },
});
