import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { AutocannonRequest } from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import { defineCase } from '../case.ts';
import { count, ms, spread, table } from '../format.ts';
import { compareLoads, loadPlan, type LoadSummary } from '../load/load.ts';
import {
  betterAuthSignIn,
  betterAuthSignUp,
  startBetterAuth,
  type BetterAuthProcess,
} from '../servers/peers.ts';
import { login, PASSWORD, signup, startTessera, type TesseraProcess } from '../servers/tessera.ts';
import { refreshTargets, targetList } from '../targets.ts';

export interface RefreshResult {
  store: string;
  sessions: number;
  connections: number;
  duration: number;
  runs: number;
  load: LoadSummary;
  /** Other Tessera deployments measured in the same run (same load, same pool size). */
  variants?: Array<{ store: string; load: LoadSummary }>;
  /** Better Auth's JWT issuance (`GET /api/auth/token`, jwt plugin) in the same run, per key algorithm. */
  betterAuth?: Array<{ alg: string; load: LoadSummary }>;
  /** Raw signing rate on one core of the benchmark process, per algorithm, measured before the loads. */
  signsPerSecond?: Record<string, number>;
}

/**
 * What one signature costs on this machine, in this run: a sync `crypto.sign` of a signing input
 * the size of an access token's, on one core, for `seconds`. Every rotation signs one token, so
 * this bounds the rotation rate whatever else the server does.
 */
function signingRate(alg: 'RS256' | 'ES256', seconds: number): number {
  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key: KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' } =
    alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey;
  const input = Buffer.from(randomBytes(225).toString('base64url'));
  let signed = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 20; i += 1) sign('sha256', input, key);
    signed += 20;
  }
  return signed / ((performance.now() - start) / 1000);
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

/** A table row: what was loaded, then its rate, spread and latencies. */
function loadRow(label: string, load: LoadSummary): string[] {
  return [
    label,
    count(load.requestsPerSecond.median),
    spread(load.requestsPerSecond),
    ms(load.p50),
    ms(load.p99),
    load.p99Runs.map(ms).join(', '),
    load.serverCpuPerRequest === undefined ? '—' : load.serverCpuPerRequest.toFixed(0),
    String(load.failures),
  ];
}

/** One Tessera deployment of the comparison. */
interface Deployment {
  name: string;
  store: string;
  settings: Record<string, string>;
}

/** Fills `pool` up to `size` refresh tokens by logging in (one session each). */
export async function topUp(url: string, pool: string[], size: number): Promise<void> {
  const missing = Math.max(0, size - pool.length);
  const logins = await Promise.all(Array.from({ length: missing }, () => login(url, 'bench@example.test')));
  pool.push(...logins.map((tokens) => tokens.refreshToken));
}

/**
 * PostgreSQL + Redis for the run, when `BENCH_POSTGRES_URL` and `BENCH_REDIS_URL` say where: a fresh
 * schema and a fresh key prefix, so the run shares nothing with other users of those servers.
 */
async function externalStores(): Promise<{ settings: Record<string, string>; drop(): Promise<void> } | null> {
  const postgres = process.env['BENCH_POSTGRES_URL'];
  const redis = process.env['BENCH_REDIS_URL'];
  if (!postgres || !redis) return null;
  const schema = `tessera_bench_${randomBytes(6).toString('hex')}`;
  const prefix = `tessera-bench:${randomBytes(6).toString('hex')}:`;
  await adminQuery(postgres, `CREATE SCHEMA ${schema}`);
  const url = new URL(postgres);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    settings: { TESSERA_DATABASE_URL: url.href, TESSERA_REDIS_URL: redis, TESSERA_REDIS_PREFIX: prefix },
    async drop() {
      await adminQuery(postgres, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      const client = new Redis(redis);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          if (keys.length > 0) await client.unlink(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        client.disconnect();
      }
    },
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export const refreshCase = defineCase<RefreshResult>({
  name: 'refresh',
  title: 'Refresh rotations',
  command:
    'BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test BENCH_REDIS_URL=redis://127.0.0.1:6379 npm run bench -- refresh',
  async run(context) {
    const plan = loadPlan(context.quick, 50, 5);
    const signsPerSecond = {
      RS256: signingRate('RS256', context.quick ? 0.2 : 2),
      ES256: signingRate('ES256', context.quick ? 0.2 : 2),
    };
    // Twice as many sessions as connections, so a token waits in the pool between its uses.
    const sessions = plan.connections * 2;
    const external = await externalStores();
    const deployments: Deployment[] = [
      { name: 'sqlite', store: 'SQLite (WAL, synchronous=FULL), RS256', settings: {} },
      {
        name: 'sqlite-es256',
        store: 'SQLite (WAL, synchronous=FULL), ES256',
        settings: { TESSERA_SIGNING_ALG: 'ES256' },
      },
      ...(external
        ? [{ name: 'postgres-redis', store: 'PostgreSQL + Redis, RS256', settings: external.settings }]
        : []),
    ];
    const servers: Array<{ deployment: Deployment; tessera: TesseraProcess; pool: string[] }> = [];
    const betterAuthServers: BetterAuthProcess[] = [];
    const betterAuths: Array<{ alg: string; server: BetterAuthProcess; session: string }> = [];
    try {
      for (const deployment of deployments) {
        const tessera = await startTessera(deployment.settings);
        servers.push({ deployment, tessera, pool: [] });
        await signup(tessera.url, 'bench@example.test');
      }
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
      context.log(
        `refresh: ${sessions} sessions on ${deployments.map((d) => d.name).join(', ')}, ${plan.connections} connections`,
      );
      const results = await compareLoads(
        [
          ...servers.map(({ deployment, tessera, pool }) => ({
            name: deployment.name,
            pid: tessera.pid,
            before: () => topUp(tessera.url, pool, sessions),
            options: (duration: number) => ({
              url: tessera.url,
              connections: plan.connections,
              duration,
              requests: [rotatingRefresh(pool)],
            }),
          })),
          ...betterAuths.map(({ alg, server, session }) => ({
            name: `better-auth ${alg}`,
            pid: server.pid,
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
      const [first, ...others] = deployments;
      return {
        store: first!.store,
        sessions,
        connections: plan.connections,
        duration: plan.duration,
        runs: plan.runs,
        load: results.get(first!.name) as LoadSummary,
        variants: others.map((deployment) => ({
          store: deployment.store,
          load: results.get(deployment.name) as LoadSummary,
        })),
        betterAuth: betterAuths.map(({ alg }) => ({
          alg,
          load: results.get(`better-auth ${alg}`) as LoadSummary,
        })),
        signsPerSecond,
      };
    } finally {
      await Promise.all([
        ...servers.map(({ tessera }) => tessera.stop()),
        ...betterAuthServers.map((server) => server.stop()),
      ]);
      await external?.drop();
    }
  },
  render(result) {
    return [
      `\`POST /auth/refresh\`, each request with a refresh token never presented before (${result.sessions} sessions rotating), ${result.connections} connections, warm-up, then ${result.runs} runs of ${result.duration} s; medians. Every rotation is one write transaction.`,
      '',
      table(
        [
          'store',
          'rotations/s (median)',
          'spread',
          'p50 ms',
          'p99 ms',
          'p99 per run',
          'server CPU µs/request',
          'failed',
        ],
        [
          loadRow(result.store, result.load),
          ...(result.variants ?? []).map(({ store, load }) => loadRow(store, load)),
          ...(result.betterAuth ?? []).map(({ alg, load }) =>
            loadRow(`Better Auth \`GET /api/auth/token\`, ${alg} (SQLite)`, load),
          ),
        ],
      ),
      ...(result.betterAuth
        ? [
            '',
            "Better Auth has no refresh token: its JWT plugin's `GET /api/auth/token` issues a fresh JWT for the session of the presented bearer token (one session, the same token on every request), reading the session, user and signing key from SQLite, decrypting the stored private key (XChaCha20-Poly1305, @noble/ciphers) and importing it on each call, but writing nothing. Tessera's rotation consumes the presented token and stores its successor in a write transaction. Not the same work: the rows put the two issuance paths side by side in one run.",
          ]
        : []),
      '',
      result.variants?.some(({ store }) => store.startsWith('PostgreSQL'))
        ? 'PostgreSQL + Redis: a fresh schema in `BENCH_POSTGRES_URL` and a fresh key prefix in `BENCH_REDIS_URL` (both on this machine, loopback), dropped after the run. Every rotation there is two Lua scripts (read, then compare-and-set) and no SQL; its server CPU is the tessera process alone, not PostgreSQL or Redis.'
        : 'PostgreSQL + Redis: not measured in this run (set `BENCH_POSTGRES_URL` and `BENCH_REDIS_URL`).',
      ...signingCost(result),
      '',
      `Issue 6's target: ≥ 3,000 rotations/s on SQLite with p99 under 25 ms at ${result.connections} connections.`,
      '',
      ...targetList(refreshTargets(result)),
    ].join('\n');
  },
});

/** The signature every rotation pays, measured in the same run. */
function signingCost(result: RefreshResult): string[] {
  const rates = result.signsPerSecond;
  if (!rates) return [];
  const each = (alg: string): string => {
    const rate = rates[alg] ?? 0;
    return `${alg} ${count(rate)} signs/s (${((1 / rate) * 1e6).toFixed(0)} µs each)`;
  };
  return [
    '',
    `Every rotation signs an access token. Signing alone, measured in this run on one core of the benchmark process (sync \`crypto.sign\`, an access token's signing input): ${each('RS256')}, ${each('ES256')}. The server signs on libuv's threadpool, but the two cores are shared with the load generator, so RS256's signature is the largest single cost of an RS256 rotation; the ES256 row shows the same rotation path with a cheaper signature.`,
  ];
}
