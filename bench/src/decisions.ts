import type { MeResult } from './cases/me.ts';
import type { RefreshResult } from './cases/refresh.ts';
import type { VerifyResult } from './cases/verify.ts';
import { count, times } from './format.ts';
import { ratio } from './stats.ts';
import { refreshDeployments } from './targets.ts';

/**
 * The design decisions the numbers inform (issue 6 asks for them with their figures). The prose
 * states what was decided; every figure in it comes from the stored results, so a re-run that
 * changed the picture shows up here as numbers that no longer support the text.
 */
export function renderDecisions(
  verify: VerifyResult | undefined,
  me: MeResult | undefined,
  refresh?: RefreshResult,
): string {
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
    '',
    ...renderDefaultAlgorithm(verify, refresh),
  ].join('\n');
}

/** RS256 as the default signing algorithm (SPEC §2), weighed with this run's figures. */
function renderDefaultAlgorithm(verify: VerifyResult, refresh: RefreshResult | undefined): string[] {
  const verifyRate = (alg: string): number | undefined =>
    verify.serial.find((row) => row.alg === alg && row.name === 'tessera verifier (sync)')?.opsPerSecond
      .median;
  const rotations = (store: string): number | undefined =>
    refreshDeployments(refresh).find((entry) => entry.store === store)?.load.requestsPerSecond.median;
  const rs = verifyRate('RS256');
  const es = verifyRate('ES256');
  const ed = verifyRate('EdDSA');
  const signs = refresh?.signsPerSecond;
  const rsRotations = rotations('SQLite (WAL, synchronous=FULL), RS256');
  const esRotations = rotations('SQLite (WAL, synchronous=FULL), ES256');
  return [
    '### The default signing algorithm',
    '',
    `Verification, one core, \`@tessera/verifier\` (sync): RS256 ${rs === undefined ? '—' : count(rs)}/s, ES256 ${es === undefined ? '—' : count(es)}/s, EdDSA ${ed === undefined ? '—' : count(ed)}/s. ` +
      (signs
        ? `Signing, one core (case 3): RS256 ${count(signs['RS256'] ?? 0)}/s, ES256 ${count(signs['ES256'] ?? 0)}/s. `
        : 'Signing: run `npm run bench -- refresh`. ') +
      (rsRotations !== undefined && esRotations !== undefined
        ? `Rotations on SQLite at 50 connections: RS256 ${count(rsRotations)}/s, ES256 ${count(esRotations)}/s (${times(ratio(esRotations, rsRotations))}).`
        : ''),
    '',
    "**Decision.** RS256 stays the default (SPEC §2). A token is signed once and verified on every request it is sent with, at every service that receives it, for up to 15 minutes: verification is the cost that multiplies, and RS256's is the cheapest of the asymmetric algorithms here, and every JWT library in every language supports it. Its price is the signature, several times ES256's, which bounds how many rotations a core can issue; deployments where issuance dominates (many short sessions, mobile clients refreshing often) or where token size matters should set `TESSERA_SIGNING_ALG=ES256`, with the rates above to size for. HS256 is fastest both ways but needs the secret at every verifier, so it is for a single trusted service only.",
  ];
}
