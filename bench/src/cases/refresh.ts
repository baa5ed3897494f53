import type { AutocannonRequest } from 'autocannon';
import { defineCase } from '../case.ts';
import { count, ms, spread, table } from '../format.ts';
import { compareLoads, loadPlan, type LoadSummary } from '../load/load.ts';
import {
  betterAuthSignIn,
  betterAuthSignUp,
  startBetterAuth,
  type BetterAuthProcess,
} from '../servers/peers.ts';
import { login, PASSWORD, signup, startTessera } from '../servers/tessera.ts';

export interface RefreshResult {
  store: string;
  sessions: number;
  connections: number;
  duration: number;
  runs: number;
  load: LoadSummary;
  /** Better Auth's JWT issuance (`GET /api/auth/token`, jwt plugin) in the same run, per key algorithm. */
  betterAuth?: Array<{ alg: string; load: LoadSummary }>;
}

// Better Auth's JWT plugin default (EdDSA), and RS256, the algorithm Tessera signs with here.
const BETTER_AUTH_ALGS = ['EdDSA', 'RS256'] as const;

/**
 * Every request presents a refresh token never presented before: connections take a token from a
 * shared pool and put back the successor the response carries. (autocannon resets its per-connection
 * context after every request of a one-request list, so the pool lives here, in the closure.)
 * autocannon builds some requests it never sends (at connect, and when a run stops) and a run stops
 * with requests in flight: those tokens are lost, so the pool is topped up by logins between runs.
 */
export function rotatingRefresh(pool: string[]): AutocannonRequest {
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
    const betterAuthServers: BetterAuthProcess[] = [];
    const betterAuths: Array<{ alg: string; server: BetterAuthProcess; session: string }> = [];
    try {
      await signup(tessera.url, 'bench@example.test');
      // A quick run (CI) only proves the peer works: its default algorithm alone.
      for (const alg of context.quick ? BETTER_AUTH_ALGS.slice(0, 1) : BETTER_AUTH_ALGS) {
        const server = await startBetterAuth(alg);
        betterAuthServers.push(server);
        await betterAuthSignUp(server.api, 'bench@example.test', PASSWORD);
        const session = await betterAuthSignIn(server.api, 'bench@example.test', PASSWORD);
        betterAuths.push({ alg, server, session });
        const probe = await fetch(`${server.api}/token`, { headers: { authorization: `Bearer ${session}` } });
        if (probe.status !== 200) throw new Error(`better-auth /token answered ${probe.status}`);
        await probe.arrayBuffer();
      }
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
          ...betterAuths.map(({ alg, server, session }) => ({
            name: `better-auth ${alg}`,
            options: (duration: number) => ({
              url: `${server.api}/token`,
              connections: plan.connections,
              duration,
              headers: { authorization: `Bearer ${session}` },
            }),
          })),
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
        betterAuth: betterAuths.map(({ alg }) => ({
          alg,
          load: results.get(`better-auth ${alg}`) as LoadSummary,
        })),
      };
    } finally {
      await Promise.all([tessera.stop(), ...betterAuthServers.map((server) => server.stop())]);
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
          ...(result.betterAuth ?? []).map(({ alg, load }) => [
            `Better Auth \`GET /api/auth/token\`, ${alg} (SQLite)`,
            count(load.requestsPerSecond.median),
            spread(load.requestsPerSecond),
            ms(load.p50),
            ms(load.p99),
            load.p99Runs.map(ms).join(', '),
            String(load.failures),
          ]),
        ],
      ),
      ...(result.betterAuth
        ? [
            '',
            "Better Auth has no refresh token: its JWT plugin's `GET /api/auth/token` issues a fresh JWT for the session of the presented bearer token (one session, the same token on every request), reading the session, user and signing key from SQLite, decrypting the stored private key (XChaCha20-Poly1305, @noble/ciphers) and importing it on each call, but writing nothing. Tessera's rotation consumes the presented token and stores its successor in a write transaction. Not the same work: the rows put the two issuance paths side by side in one run.",
          ]
        : []),
      '',
      'PostgreSQL: not measured yet (the case takes `TESSERA_DATABASE_URL`; a dedicated database is needed so the run does not share tables with the test suites).',
    ].join('\n');
  },
});
