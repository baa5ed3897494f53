/**
 * What request logging costs `GET /auth/me`: `node bench/src/diagnose/log-levels.ts`. Two
 * `tessera serve` processes identical but for `TESSERA_LOG_LEVEL` (`info`, the default: one line
 * per request; `warn`: none), loaded in turn with case 2's load (50 connections, 5 interleaved runs
 * of 8 s, medians), each charged its CPU time per answer. A diagnosis for docs/design.md, not a
 * case of the results page.
 */
import { compareLoads, loadPlan } from '../load/load.ts';
import { login, signup, startTessera, type TesseraProcess } from '../servers/tessera.ts';

const plan = loadPlan(false, 50, 5);
const servers: TesseraProcess[] = [];
try {
  const targets = [];
  for (const level of ['info', 'warn']) {
    const tessera = await startTessera({ TESSERA_LOG_LEVEL: level });
    servers.push(tessera);
    await signup(tessera.url, 'bench@example.test');
    const { accessToken } = await login(tessera.url, 'bench@example.test');
    targets.push({
      name: level,
      pid: tessera.pid,
      options: (duration: number) => ({
        url: `${tessera.url}/auth/me`,
        connections: plan.connections,
        duration,
        headers: { authorization: `Bearer ${accessToken}` },
      }),
    });
  }
  const results = await compareLoads(targets, plan, (line) => process.stderr.write(`${line}\n`));
  for (const [level, summary] of results) {
    process.stdout.write(
      `${level}: ${Math.round(summary.requestsPerSecond.median)} req/s, p99 ${summary.p99} ms, ${summary.serverCpuPerRequest?.toFixed(0) ?? '?'} µs CPU/request\n`,
    );
  }
} finally {
  await Promise.all(servers.map((server) => server.stop()));
}
