/**
 * Where the CPU of Tessera's `GET /auth/me` goes: `node bench/src/diagnose/me-costs.ts`. Builds the
 * request up one piece at a time (pieces-server.ts), beside `tessera serve` itself, and reports each
 * server's CPU time per answered request (every thread, from /proc) and its rate: interleaved
 * runs, medians. A diagnosis for docs/design.md, not a case of the results page.
 */
import { compareLoads } from '../load/load.ts';
import { signingJwk } from '../servers/peers.ts';
import { spawnAnnounced, type ServerProcess } from '../servers/spawn.ts';
import { login, signup, startTessera } from '../servers/tessera.ts';
import { join } from 'node:path';

const SERVER = join(import.meta.dirname, 'pieces-server.ts');
const STEPS = [
  { name: 'bare route', pieces: '' },
  { name: '+ raw verify (sync)', pieces: 'verify' },
  { name: '+ response headers', pieces: 'verify,headers' },
  { name: '+ metrics hook', pieces: 'verify,headers,metrics' },
  { name: '+ profile read (SQLite)', pieces: 'verify,headers,metrics,profile' },
];
const quick = process.argv.includes('--quick');
const servers: ServerProcess[] = [];
try {
  const tessera = await startTessera({ TESSERA_SIGNING_ALG: 'RS256' });
  servers.push(tessera);
  await signup(tessera.url, 'bench@example.test');
  const { accessToken } = await login(tessera.url, 'bench@example.test');
  const jwk = await signingJwk(tessera.url, accessToken);
  const headers = { authorization: `Bearer ${accessToken}` };
  const targets = [{ name: 'tessera serve', url: `${tessera.url}/auth/me`, pid: tessera.pid }];
  for (const step of STEPS) {
    const server = await spawnAnnounced(SERVER, [step.pieces], {
      BENCH_ALG: 'RS256',
      BENCH_JWK: JSON.stringify(jwk),
      BENCH_ISSUER: tessera.url,
      BENCH_AUDIENCE: tessera.url,
    });
    servers.push(server);
    targets.push({ name: step.name, url: `${server.url}/auth/me`, pid: server.pid });
  }
  const plan = quick
    ? { warmup: 0.5, duration: 1, runs: 3, connections: 50 }
    : { warmup: 2, duration: 4, runs: 7, connections: 50 };
  const results = await compareLoads(
    targets.map((target) => ({
      name: target.name,
      pid: target.pid,
      options: (duration: number) => ({ url: target.url, connections: plan.connections, duration, headers }),
    })),
    plan,
    (line) => process.stderr.write(`${line}\n`),
  );
  process.stdout.write(
    `${plan.runs} interleaved runs of ${plan.duration} s at ${plan.connections} connections, RS256, medians\n\n`,
  );
  process.stdout.write('| server | server CPU µs/request | req/s |\n| --- | --- | --- |\n');
  for (const target of targets) {
    const summary = results.get(target.name);
    const cpu = summary?.serverCpuPerRequest;
    process.stdout.write(
      `| ${target.name} | ${cpu === undefined ? '—' : cpu.toFixed(1)} | ${Math.round(summary?.requestsPerSecond.median ?? 0)} |\n`,
    );
  }
} finally {
  await Promise.all(servers.map((server) => server.stop()));
}
