import { defineCase, type CaseContext } from '../case.ts';
import { count, spread, table, times } from '../format.ts';
import { median, ratio, summarize, type Summary } from '../stats.ts';
import { buildContenders, type Contender } from '../verify/contenders.ts';
import { serveJwks } from '../verify/jwks-server.ts';
import { measureInFlight, measureSerial, type Sample } from '../verify/measure.ts';
import { ALGORITHMS, makeTokenSet, type TokenSet } from '../verify/tokens.ts';

interface Row {
  alg: string;
  name: string;
  cache: boolean;
  opsPerSecond: Summary;
  /** Median process CPU over wall time during the runs. */
  cores: number;
  /** To the raw limit of the same mode: `raw (sync)` serially, `raw (callback)` in flight. */
  toRaw: number | undefined;
}

export interface VerifyResult {
  tokens: number;
  runMs: number;
  runs: number;
  inFlight: number;
  serial: Row[];
  concurrent: Row[];
}

// The in-flight table only needs the contenders whose mode could use the second core, and the
// synchronous ones to compare them with.
const IN_FLIGHT = new Set([
  'raw node:crypto (sync)',
  'raw node:crypto (callback)',
  'tessera verifier (sync)',
  'tessera verifier (threadpool)',
  'jose jwtVerify',
]);

export const verifyCase = defineCase<VerifyResult>({
  name: 'verify',
  title: 'Verification per token',
  command: 'npm run bench -- verify',
  async run(context) {
    const settings = context.quick
      ? { tokens: 500, runMs: 100, warmupMs: 50, runs: 3, inFlight: 64 }
      : // Many short runs rather than a few long ones: on a shared machine, a stretch of other
        // work then lands on every contender alike instead of on the few whose turn it was.
        { tokens: 10_000, runMs: 300, warmupMs: 500, runs: 15, inFlight: 64 };
    const serial: Row[] = [];
    const concurrent: Row[] = [];
    for (const alg of ALGORITHMS) {
      context.log(`verify ${alg}: signing ${settings.tokens} tokens`);
      const set = makeTokenSet(alg, settings.tokens);
      const jwks = set.jwk ? await serveJwks([set.jwk]) : undefined;
      const built = await buildContenders(set, jwks?.url);
      try {
        for (const contender of built.contenders) await assertCorrect(contender, set);
        serial.push(...(await compare(context, set, built.contenders, settings, 1)));
        const parallel = built.contenders.filter((contender) => IN_FLIGHT.has(contender.name));
        concurrent.push(...(await compare(context, set, parallel, settings, settings.inFlight)));
      } finally {
        await built.close();
        await jwks?.close();
      }
    }
    return {
      tokens: settings.tokens,
      runMs: settings.runMs,
      runs: settings.runs,
      inFlight: settings.inFlight,
      serial,
      concurrent,
    };
  },
  render(result) {
    const rows = (list: Row[], cacheRows: boolean): string[][] =>
      list
        .filter((row) => row.cache === cacheRows)
        .map((row) => [
          row.alg,
          row.name,
          count(row.opsPerSecond.median),
          spread(row.opsPerSecond),
          times(row.toRaw),
          row.cores.toFixed(2),
        ]);
    const head = ['alg', 'verifier', 'ops/s (median)', 'spread', '× raw', 'cores used'];
    return [
      `${result.tokens.toLocaleString('en-US')} distinct tokens per algorithm, cycled; ${result.runs} runs of ${result.runMs} ms each after a warm-up, contenders interleaved run by run; median ops/s, spread = (max − min) / median / 2.`,
      '',
      'The raw limit (bench/src/verify/raw.ts) splits the token, checks `alg` and `typ`, verifies with a key object built once (ES256 signatures converted to DER), parses the payload and makes the claim checks Tessera makes (claim types, `iss`, `aud`, `exp`/`nbf`/`iat` with 30 s leeway, `exp − iat` ≤ 15 min); it skips the structural hardening (canonical base64url, header allow-list, duplicate members) and the `kid` lookup.',
      '',
      '**One in flight** (one core; `× raw` is to `raw node:crypto (sync)`):',
      '',
      table(head, rows(result.serial, false)),
      '',
      `**${result.inFlight} in flight** (what a busy server does; \`× raw\` is to \`raw node:crypto (callback)\`, the threadpool limit):`,
      '',
      table(head, rows(result.concurrent, false)),
      '',
      '**A result cache, not a verification** (fast-jwt with its cache on, every token seen before):',
      '',
      table(head, rows(result.serial, true)),
    ].join('\n');
  },
});

/** Each contender must accept a good token and refuse a forged one, or its speed means nothing. */
async function assertCorrect(contender: Contender, set: TokenSet): Promise<void> {
  const token = set.tokens[0] as string;
  await contender.verify(token);
  const last = token.at(-2) === 'A' ? 'B' : 'A';
  const forged = `${token.slice(0, -2)}${last}${token.at(-1) ?? ''}`;
  const refused = await Promise.resolve()
    .then(() => contender.verify(forged))
    .then(
      () => false,
      () => true,
    );
  if (!refused) throw new Error(`${contender.name} (${set.alg}) accepted a forged signature`);
}

async function compare(
  context: CaseContext,
  set: TokenSet,
  contenders: Contender[],
  settings: { runMs: number; warmupMs: number; runs: number },
  inFlight: number,
): Promise<Row[]> {
  const measure = (contender: Contender, ms: number): Promise<Sample> =>
    inFlight === 1
      ? measureSerial(contender, set.tokens, ms)
      : measureInFlight(contender, set.tokens, ms, inFlight);
  for (const contender of contenders) await measure(contender, settings.warmupMs);
  const samples = new Map<Contender, Sample[]>(contenders.map((contender) => [contender, []]));
  // Interleaved run by run, so a burst of noise from another process hits every contender alike.
  for (let run = 0; run < settings.runs; run += 1) {
    for (const contender of contenders)
      samples.get(contender)?.push(await measure(contender, settings.runMs));
  }
  const baselineName = inFlight === 1 ? 'raw node:crypto (sync)' : 'raw node:crypto (callback)';
  const medians = new Map(
    contenders.map((contender) => [
      contender.name,
      median((samples.get(contender) ?? []).map((s) => s.opsPerSecond)),
    ]),
  );
  const baseline = medians.get(baselineName);
  return contenders.map((contender) => {
    const runs = samples.get(contender) ?? [];
    const opsPerSecond = summarize(runs.map((s) => s.opsPerSecond));
    context.log(
      `  ${set.alg} ${inFlight === 1 ? 'serial' : `${inFlight} in flight`} ${contender.name}: ${count(opsPerSecond.median)} ops/s`,
    );
    return {
      alg: set.alg,
      name: contender.name,
      cache: contender.cache === true,
      opsPerSecond,
      cores: median(runs.map((s) => s.cores)),
      toRaw: ratio(opsPerSecond.median, baseline),
    };
  });
}
