import { defineCase } from '../case.ts';
import { count, ms, spread, table, times } from '../format.ts';
import { compareLoads, loadPlan, type LoadSummary } from '../load/load.ts';
import { ratio } from '../stats.ts';
import type { PeerKind } from '../servers/peer.ts';
import { fasterRawRoute, meTargets, targetList } from '../targets.ts';
import {
  betterAuthSignIn,
  betterAuthSignUp,
  signingJwk,
  startBetterAuth,
  startPeer,
} from '../servers/peers.ts';
import type { ServerProcess } from '../servers/spawn.ts';
import { login, PASSWORD, signup, startTessera } from '../servers/tessera.ts';

interface Row {
  name: string;
  what: string;
  load: LoadSummary;
  toRawRoute: number | undefined;
  toBare: number | undefined;
}

export interface MeResult {
  alg: string;
  connections: number;
  duration: number;
  runs: number;
  rows: Row[];
}

const ALG = 'RS256'; // Tessera's default signing algorithm.

const PEERS: ReadonlyArray<{ kind: PeerKind; what: string }> = [
  { kind: 'fastify-bare', what: 'the ceiling: a Fastify route that does not verify' },
  {
    kind: 'fastify-raw',
    what: 'a verified request at the limit: the raw node:crypto verify of case 1, sync',
  },
  {
    kind: 'fastify-raw-threadpool',
    what: 'the same raw verify with the signature on the threadpool (callback `crypto.verify`)',
  },
  { kind: 'fastify-tessera-verifier-sync', what: '@tessera/verifier Fastify plugin, sync verification' },
  {
    kind: 'fastify-tessera-verifier-threadpool',
    what: '@tessera/verifier Fastify plugin, threadpool verification',
  },
  {
    kind: 'fastify-jose-importjwk',
    what: 'Fastify + jose jwtVerify, key from importJWK (as jose documents it)',
  },
  {
    kind: 'fastify-jose-remote-jwks',
    what: 'Fastify + jose jwtVerify with createRemoteJWKSet (the issuer JWKS)',
  },
  { kind: 'express-jsonwebtoken', what: 'Express + jsonwebtoken (the tutorial stack)' },
];

const BETTER_AUTH_WHAT =
  'Better Auth GET /api/auth/get-session, bearer plugin session token (HMAC-checked, session and user read from SQLite, no cookie cache)';

export const meCase = defineCase<MeResult>({
  name: 'me',
  title: 'Protected request: GET /auth/me',
  command: 'npm run bench -- me',
  async run(context) {
    const plan = loadPlan(context.quick, 50, 5);
    const servers: ServerProcess[] = [];
    try {
      const tessera = await startTessera({ TESSERA_SIGNING_ALG: ALG });
      servers.push(tessera);
      await signup(tessera.url, 'bench@example.test');
      const { accessToken } = await login(tessera.url, 'bench@example.test');
      const jwk = await signingJwk(tessera.url, accessToken);
      const headers = { authorization: `Bearer ${accessToken}` };
      const targets: Array<{
        name: string;
        url: string;
        headers: Record<string, string>;
        pid: number | undefined;
      }> = [{ name: 'tessera', url: `${tessera.url}/auth/me`, headers, pid: tessera.pid }];
      for (const peer of PEERS) {
        const server = await startPeer(peer.kind, { url: tessera.url, alg: ALG, jwk });
        servers.push(server);
        targets.push({ name: peer.kind, url: `${server.url}/auth/me`, headers, pid: server.pid });
      }
      // Better Auth checks its own session token, not Tessera's JWT: its per-request check.
      const betterAuth = await startBetterAuth();
      servers.push(betterAuth);
      await betterAuthSignUp(betterAuth.api, 'bench@example.test', PASSWORD);
      const session = await betterAuthSignIn(betterAuth.api, 'bench@example.test', PASSWORD);
      targets.push({
        pid: betterAuth.pid,
        name: 'better-auth',
        url: `${betterAuth.api}/get-session`,
        headers: { authorization: `Bearer ${session}` },
      });
      for (const target of targets) {
        const response = await fetch(target.url, { headers: target.headers });
        const body = await response.text();
        if (response.status !== 200) throw new Error(`${target.name} answered ${response.status}`);
        // Better Auth answers 200 with `null` for no session: a fast wrong answer is no answer.
        if (target.name === 'better-auth' && !body.includes('"session"')) {
          throw new Error('better-auth get-session answered without a session');
        }
      }
      context.log(
        `me: ${targets.length} servers, ${plan.runs} runs of ${plan.duration} s at ${plan.connections} connections`,
      );
      const results = await compareLoads(
        targets.map((target) => ({
          name: target.name,
          pid: target.pid,
          options: (duration: number) => ({
            url: target.url,
            connections: plan.connections,
            duration,
            headers: target.headers,
          }),
        })),
        plan,
        context.log,
      );
      const rawRoute = fasterRawRoute((name) => results.get(name)?.requestsPerSecond.median)?.rate;
      const bare = results.get('fastify-bare')?.requestsPerSecond.median;
      const rows = targets.map((target): Row => {
        const summary = results.get(target.name) as LoadSummary;
        return {
          name: target.name,
          what:
            target.name === 'tessera'
              ? 'Tessera GET /auth/me (verify, revocation check, profile read from SQLite)'
              : target.name === 'better-auth'
                ? BETTER_AUTH_WHAT
                : (PEERS.find((p) => p.kind === target.name)?.what ?? ''),
          load: summary,
          toRawRoute: ratio(summary.requestsPerSecond.median, rawRoute),
          toBare: ratio(summary.requestsPerSecond.median, bare),
        };
      });
      return { alg: ALG, connections: plan.connections, duration: plan.duration, runs: plan.runs, rows };
    } finally {
      await Promise.all(servers.map((server) => server.stop()));
    }
  },
  render(result) {
    return [
      `${result.alg} tokens issued by Tessera; every server in its own process, autocannon in the benchmark process, all on 127.0.0.1. ${result.connections} connections, warm-up, then ${result.runs} interleaved runs of ${result.duration} s; medians. Server CPU is the server process's user + system time (every thread, the threadpool's signature checks included) per answered request, from /proc: what a request costs that server whatever share of the two cores the load generator took.`,
      '',
      table(
        [
          'server',
          'req/s (median)',
          'spread',
          '× raw-verify route',
          '× bare route',
          'server CPU µs/req',
          'p50 ms',
          'p99 ms',
          'failed',
          'what',
        ],
        result.rows.map((row) => [
          row.name,
          count(row.load.requestsPerSecond.median),
          spread(row.load.requestsPerSecond),
          times(row.toRawRoute),
          times(row.toBare),
          row.load.serverCpuPerRequest === undefined ? '—' : row.load.serverCpuPerRequest.toFixed(0),
          ms(row.load.p50),
          ms(row.load.p99),
          String(row.load.failures),
          row.what,
        ]),
      ),
      ...targets(result),
    ].join('\n');
  },
});

/** Issue 6's targets for this case (bench/src/targets.ts), and what Better Auth's check does. */
function targets(result: MeResult): string[] {
  return [
    '',
    "Issue 6's targets for Tessera's `GET /auth/me`:",
    '',
    ...targetList(meTargets(result)),
    '',
    "Better Auth checks its own opaque session token (the `bearer` plugin's signed session cookie), with a database read per request; Tessera verifies a JWT and also reads the profile.",
  ];
}
