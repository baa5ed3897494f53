import type { MeResult } from './cases/me.ts';
import type { VerifyResult } from './cases/verify.ts';
import { count, times } from './format.ts';
import { ratio } from './stats.ts';

/**
 * The design decisions the numbers inform (issue 6 asks for them with their figures). The prose
 * states what was decided; every figure in it comes from the stored results, so a re-run that
 * changed the picture shows up here as numbers that no longer support the text.
 */
export function renderDecisions(verify: VerifyResult | undefined, me: MeResult | undefined): string {
  if (!verify) return 'Not available: run `npm run bench -- verify me`.';
  const ops = (list: VerifyResult['serial'], alg: string, name: string): number | undefined =>
    list.find((row) => row.alg === alg && row.name === name)?.opsPerSecond.median;
  const lines = [
    '| alg | one in flight: threadpool ÷ sync | 64 in flight: threadpool ÷ sync | cores used (sync → threadpool) |',
    '| --- | --- | --- | --- |',
  ];
  for (const alg of ['RS256', 'ES256', 'EdDSA', 'HS256']) {
    const serialSync = ops(verify.serial, alg, 'tessera verifier (sync)');
    const serialPool = ops(verify.serial, alg, 'tessera verifier (threadpool)');
    const manySync = ops(verify.concurrent, alg, 'tessera verifier (sync)');
    const manyPool = ops(verify.concurrent, alg, 'tessera verifier (threadpool)');
    const cores = (name: string): string =>
      verify.concurrent.find((row) => row.alg === alg && row.name === name)?.cores.toFixed(2) ?? '—';
    lines.push(
      `| ${alg} | ${times(serialPool === undefined ? undefined : ratio(serialPool, serialSync))} | ${times(manyPool === undefined ? undefined : ratio(manyPool, manySync))} | ${cores('tessera verifier (sync)')} → ${cores('tessera verifier (threadpool)')} |`,
    );
  }
  const server = (name: string): number | undefined =>
    me?.rows.find((row) => row.name === name)?.load.requestsPerSecond.median;
  const serverSync = server('fastify-tessera-verifier-sync');
  const serverPool = server('fastify-tessera-verifier-threadpool');
  const serverLine =
    serverSync !== undefined && serverPool !== undefined
      ? `At the server level (case 2, ${me?.alg}, ${me?.connections} connections) the Fastify plugin served ${count(serverPool)} req/s with threadpool verification against ${count(serverSync)} req/s with sync verification (${times(ratio(serverPool, serverSync))}).`
      : 'The server-level comparison (case 2) has not been run yet.';
  return [
    '### Sync or threadpool verification',
    '',
    lines.join('\n'),
    '',
    serverLine,
    '',
    '**Decision.** With one verification in flight, the threadpool only adds a hop (the callback form of `crypto.verify` plus a promise), so sync is faster. With many in flight — what a service under load does — the threadpool runs the signature check on the second core while the main thread parses the next request, and wins for the asymmetric algorithms. A resource server verifies under concurrent load, so `@tessera/verifier` should default to `threadpool` for RS256, ES256 and EdDSA; `sync` stays the right choice for one-at-a-time callers (scripts, CLIs) and single-core containers, where there is no second core to gain. HS256 is verified on the calling thread in both modes: an HMAC costs less than the hop.',
  ].join('\n');
}
