import type { AutocannonRequest } from 'autocannon';
import { defineCase } from '../case.ts';
import { count, ms, spread, table } from '../format.ts';
import { compareLoads, loadPlan, type LoadSummary } from '../load/load.ts';
import { login, signup, startTessera } from '../servers/tessera.ts';

export interface RefreshResult {
  store: string;
  sessions: number;
  connections: number;
  duration: number;
  runs: number;
  load: LoadSummary;
}

/**
 * Every request presents a refresh token never presented before: connections take a token from a
 * shared pool and put back the successor the response carries. (autocannon resets its per-connection
 * context after every request of a one-request list, so the pool lives here, in the closure.)
 * autocannon builds some requests it never sends (at connect, and when a run stops) and a run stops
 * with requests in flight: those tokens are lost, so the pool is topped up by logins between runs.
 */
function rotatingRefresh(pool: string[]): AutocannonRequest {
  return {
    method: 'POST',
    path: '/auth/refresh',
    headers: { 'content-type': 'application/json' },
    setupRequest(request) {
      const token = pool.shift();
      if (token === undefined) throw new Error('refresh token pool ran dry: more connections than sessions');
      return { ...request, body: JSON.stringify({ refreshToken: token }) };
    },
    onResponse(status, body) {
      if (status === 200) pool.push((JSON.parse(body) as { refreshToken: string }).refreshToken);
    },
  };
}

export const refreshCase = defineCase<RefreshResult>({
  name: 'refresh',
  title: 'Refresh rotations',
  command: 'npm run bench -- refresh',
  async run(context) {
    const plan = loadPlan(context.quick);
    // Twice as many sessions as connections, so a token waits in the pool between its uses.
    const sessions = plan.connections * 2;
    const topUp = async (pool: string[]): Promise<void> => {
      const missing = Math.max(0, sessions - pool.length);
      const logins = await Promise.all(
        Array.from({ length: missing }, () => login(tessera.url, 'bench@example.test')),
      );
      pool.push(...logins.map((tokens) => tokens.refreshToken));
    };
    const tessera = await startTessera();
    try {
      await signup(tessera.url, 'bench@example.test');
      const pool: string[] = [];
      context.log(`refresh: ${sessions} sessions on SQLite, ${plan.connections} connections`);
      const results = await compareLoads(
        [
          {
            name: 'sqlite',
            before: () => topUp(pool),
            options: (duration: number) => ({
              url: tessera.url,
              connections: plan.connections,
              duration,
              requests: [rotatingRefresh(pool)],
            }),
          },
        ],
        plan,
        context.log,
      );
      const load = results.get('sqlite') as LoadSummary;
      return {
        store: 'SQLite (WAL, synchronous=FULL)',
        sessions,
        connections: plan.connections,
        duration: plan.duration,
        runs: plan.runs,
        load,
      };
    } finally {
      await tessera.stop();
    }
  },
  render(result) {
    return [
      `\`POST /auth/refresh\`, each request with a refresh token never presented before (${result.sessions} sessions rotating), ${result.connections} connections, warm-up, then ${result.runs} runs of ${result.duration} s; medians. Every rotation is one write transaction.`,
      '',
      table(
        ['store', 'rotations/s (median)', 'spread', 'p50 ms', 'p99 ms', 'p99 per run', 'failed'],
        [
          [
            result.store,
            count(result.load.requestsPerSecond.median),
            spread(result.load.requestsPerSecond),
            ms(result.load.p50),
            ms(result.load.p99),
            result.load.p99Runs.map(ms).join(', '),
            String(result.load.failures),
          ],
        ],
      ),
      '',
      'PostgreSQL: not measured yet (the case takes `TESSERA_DATABASE_URL`; a dedicated database is needed so the run does not share tables with the test suites).',
    ].join('\n');
  },
});
