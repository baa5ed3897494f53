/**
 * What one setting or change does to `tessera serve`, against baselines in the same run:
 * `node bench/src/diagnose/levers.ts <me|refresh> [--runs N] [--seconds S] <variant>…`.
 *
 * Each variant is one `tessera serve` (RS256, SQLite, otherwise at its defaults), described by
 * `+`-joined parts: `default`; `env:NAME=value` (a setting); `node:--flag` (a node/V8 flag);
 * `tree:/dir` (`tessera serve` from another checkout of this repository, e.g. the parent commit
 * exported with `git archive`, so a code change is measured against the code before it). `me`
 * also loads case 2's raw-verify routes and both Fastify + jose peers. All targets are loaded in
 * turn with the same load (50 connections), the rounds alternated, medians; each is charged its
 * CPU time per answer. A diagnosis for docs/design.md, not a case of the results page.
 */
import { join } from 'node:path';
import { rotatingRefresh, topUp } from '../cases/refresh.ts';
import { count } from '../format.ts';
import { compareLoads, type LoadSummary } from '../load/load.ts';
import type { PeerKind } from '../servers/peer.ts';
import { signingJwk, startPeer } from '../servers/peers.ts';
import type { ServerProcess } from '../servers/spawn.ts';
import { login, signup, startTessera } from '../servers/tessera.ts';

interface Variant {
  name: string;
  settings: Record<string, string>;
  nodeArgs: string[];
  cli?: string;
}

/** `env:A=1+node:--x` as settings, node flags and the checkout to run. */
export function parseVariant(spec: string): Variant {
  const variant: Variant = { name: spec, settings: {}, nodeArgs: [] };
  for (const part of spec.split('+')) {
    const colon = part.indexOf(':');
    const [kind, value] = colon < 0 ? [part, ''] : [part.slice(0, colon), part.slice(colon + 1)];
    if (kind === 'default') continue;
    if (kind === 'env') {
      const equals = value.indexOf('=');
      if (equals <= 0) throw new Error(`env:NAME=value expected, got ${part}`);
      variant.settings[value.slice(0, equals)] = value.slice(equals + 1);
    } else if (kind === 'node') variant.nodeArgs.push(value);
    else if (kind === 'tree') variant.cli = join(value, 'packages', 'cli', 'src', 'main.ts');
    else throw new Error(`unknown variant part ${part} (default, env:, node:, tree:)`);
  }
  return variant;
}

const ME_PEERS: readonly PeerKind[] = [
  'fastify-raw',
  'fastify-raw-threadpool',
  'fastify-jose-importjwk',
  'fastify-jose-remote-jwks',
];

const option = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const [mode, ...rest] = process.argv.slice(2);
const specs = rest.filter((arg, i) => !arg.startsWith('--') && !rest[i - 1]?.startsWith('--'));
if ((mode !== 'me' && mode !== 'refresh') || specs.length === 0) {
  throw new Error('usage: levers.ts <me|refresh> [--runs N] [--seconds S] <variant>…');
}
const plan = { warmup: 3, duration: option('--seconds', 8), runs: option('--runs', 5), connections: 50 };
const servers: ServerProcess[] = [];
try {
  const targets: Parameters<typeof compareLoads>[0][number][] = [];
  for (const variant of specs.map(parseVariant)) {
    const tessera = await startTessera(
      { TESSERA_SIGNING_ALG: 'RS256', ...variant.settings },
      variant.nodeArgs,
      variant.cli,
    );
    servers.push(tessera);
    await signup(tessera.url, 'bench@example.test');
    if (mode === 'me') {
      const { accessToken } = await login(tessera.url, 'bench@example.test');
      const headers = { authorization: `Bearer ${accessToken}` };
      targets.push({
        name: variant.name,
        pid: tessera.pid,
        options: (duration) => ({ url: `${tessera.url}/auth/me`, connections: 50, duration, headers }),
      });
      if (targets.length === 1) {
        // The peers verify the first variant's token, as in case 2.
        const jwk = await signingJwk(tessera.url, accessToken);
        for (const kind of ME_PEERS) {
          const peer = await startPeer(kind, { url: tessera.url, alg: 'RS256', jwk });
          servers.push(peer);
          targets.push({
            name: kind,
            pid: peer.pid,
            options: (duration) => ({ url: `${peer.url}/auth/me`, connections: 50, duration, headers }),
          });
        }
      }
    } else {
      const pool: string[] = [];
      targets.push({
        name: variant.name,
        pid: tessera.pid,
        before: () => topUp(tessera.url, pool, 100),
        options: (duration) => ({
          url: tessera.url,
          connections: 50,
          duration,
          requests: [rotatingRefresh(pool)],
        }),
      });
    }
  }
  const results = await compareLoads(targets, plan, (line) => process.stderr.write(`${line}\n`));
  const first = results.get(targets[0]?.name ?? '');
  const rate = (summary: LoadSummary | undefined): number => summary?.requestsPerSecond.median ?? 0;
  process.stdout.write(
    `${mode}, RS256, SQLite, ${plan.connections} connections, ${plan.runs} alternated rounds of ${plan.duration} s, medians\n\n` +
      `| target | req/s | spread (min–max) | × first | p99 ms | server CPU µs/req |\n| --- | --- | --- | --- | --- | --- |\n`,
  );
  for (const [name, summary] of results) {
    const { min, max } = summary.requestsPerSecond;
    process.stdout.write(
      `| ${name} | ${count(rate(summary))} | ${count(min)}–${count(max)} | ${(rate(summary) / rate(first)).toFixed(2)}× | ${summary.p99} | ${summary.serverCpuPerRequest?.toFixed(0) ?? '—'} |\n`,
    );
  }
} finally {
  await Promise.all(servers.map((server) => server.stop()));
}
