import { randomBytes, scrypt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import argon2 from 'argon2';
import { defineCase } from '../case.ts';
import { count, ms, spread, table, times } from '../format.ts';
import { load, loadPlan, summarizeLoad, type LoadSample, type LoadSummary } from '../load/load.ts';
import { summarize, ratio, type Summary } from '../stats.ts';
import { betterAuthSignIn, betterAuthSignUp, startBetterAuth } from '../servers/peers.ts';
import { login, PASSWORD, signup, startTessera } from '../servers/tessera.ts';

export interface LoginResult {
  concurrency: number;
  rawArgon2PerSecond: Summary;
  loginsPerSecond: LoadSummary;
  toRaw: number | undefined;
  meRate: number;
  meAlone: LoadSummary;
  meUnderFlood: LoadSummary;
  /** Better Auth's `POST /api/auth/sign-in/email` in the same run, against raw scrypt with its parameters. */
  betterAuth?: {
    scrypt: typeof SCRYPT;
    rawScryptPerSecond: Summary;
    signInsPerSecond: LoadSummary;
    toRaw: number | undefined;
  };
}

// The server's parameters (packages/server/src/passwords/password-hasher.ts, OWASP's argon2id).
const ARGON2 = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
// As many hashes in flight as libuv has threads (4 by default), so both cores are kept busy.
const CONCURRENCY = 8;
// A fixed request rate for /auth/me, so its latency is compared at the same load with and without
// the flood (a closed loop would just slow down and hide the stall).
const ME_RATE = 1000;

// Better Auth's default password hash (better-auth 1.7 → @better-auth/utils/password, node build):
// node:crypto scrypt, N = 16384, r = 16, p = 1, 64-byte key, 16-byte salt; 32 MiB per hash.
const SCRYPT = { N: 16384, r: 16, p: 1, keyLength: 64 } as const;

/** Better Auth's verification: the scrypt it computes per sign-in, `CONCURRENCY` in flight. */
async function rawScrypt(seconds: number): Promise<number> {
  const salt = randomBytes(16).toString('hex');
  const once = (): Promise<void> =>
    new Promise((resolve, reject) =>
      scrypt(
        PASSWORD.normalize('NFKC'),
        salt,
        SCRYPT.keyLength,
        { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 128 * SCRYPT.N * SCRYPT.r * 2 },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        await once();
        done += 1;
      }
    }),
  );
  return (done * 1000) / (performance.now() - start);
}

/** argon2id verifications per second with `CONCURRENCY` in flight, in this process: the limit. */
async function rawArgon2(seconds: number): Promise<number> {
  const hash = await argon2.hash(PASSWORD, ARGON2);
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        if (!(await argon2.verify(hash, PASSWORD))) throw new Error('argon2 verify failed');
        done += 1;
      }
    }),
  );
  return (done * 1000) / (performance.now() - start);
}

export const loginCase = defineCase<LoginResult>({
  name: 'login',
  title: 'Login and the event loop',
  command: 'npm run bench -- login',
  async run(context) {
    const plan = loadPlan(context.quick, CONCURRENCY);
    const tessera = await startTessera();
    const betterAuth = await startBetterAuth().catch(async (error: unknown) => {
      await tessera.stop();
      throw error;
    });
    try {
      await signup(tessera.url, 'bench@example.test');
      await betterAuthSignUp(betterAuth.api, 'bench@example.test', PASSWORD);
      await betterAuthSignIn(betterAuth.api, 'bench@example.test', PASSWORD);
      const signInFlood = (duration: number) =>
        load({
          url: `${betterAuth.api}/sign-in/email`,
          method: 'POST',
          connections: CONCURRENCY,
          duration,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'bench@example.test', password: PASSWORD }),
        });
      const { accessToken } = await login(tessera.url, 'bench@example.test');
      const loginFlood = (duration: number) =>
        load({
          url: `${tessera.url}/auth/login`,
          method: 'POST',
          connections: CONCURRENCY,
          duration,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'bench@example.test', password: PASSWORD }),
        });
      const me = (duration: number) =>
        load({
          url: `${tessera.url}/auth/me`,
          connections: 10,
          overallRate: ME_RATE,
          duration,
          headers: { authorization: `Bearer ${accessToken}` },
        });
      await rawArgon2(plan.warmup);
      await loginFlood(plan.warmup);
      await me(plan.warmup);
      await rawScrypt(plan.warmup);
      await signInFlood(plan.warmup);
      const raw: number[] = [];
      const scrypts: number[] = [];
      const signIns: LoadSample[] = [];
      const logins: LoadSample[] = [];
      const alone: LoadSample[] = [];
      const flooded: LoadSample[] = [];
      for (let run = 0; run < plan.runs; run += 1) {
        raw.push(await rawArgon2(plan.duration));
        logins.push(await loginFlood(plan.duration));
        alone.push(await me(plan.duration));
        const [underFlood] = await Promise.all([me(plan.duration), loginFlood(plan.duration)]);
        flooded.push(underFlood);
        scrypts.push(await rawScrypt(plan.duration));
        signIns.push(await signInFlood(plan.duration));
        context.log(
          `  run ${run + 1}: argon2 ${Math.round(raw.at(-1) ?? 0)}/s, logins ${Math.round(logins.at(-1)?.requestsPerSecond ?? 0)}/s, /auth/me p99 ${alone.at(-1)?.p99} ms alone, ${underFlood.p99} ms under flood`,
        );
        context.log(
          `  run ${run + 1}: scrypt ${Math.round(scrypts.at(-1) ?? 0)}/s, Better Auth sign-ins ${Math.round(signIns.at(-1)?.requestsPerSecond ?? 0)}/s`,
        );
      }
      const rawSummary = summarize(raw);
      const loginSummary = summarizeLoad(logins);
      const scryptSummary = summarize(scrypts);
      const signInSummary = summarizeLoad(signIns);
      return {
        concurrency: CONCURRENCY,
        rawArgon2PerSecond: rawSummary,
        loginsPerSecond: loginSummary,
        toRaw: ratio(loginSummary.requestsPerSecond.median, rawSummary.median),
        meRate: ME_RATE,
        meAlone: summarizeLoad(alone),
        meUnderFlood: summarizeLoad(flooded),
        betterAuth: {
          scrypt: SCRYPT,
          rawScryptPerSecond: scryptSummary,
          signInsPerSecond: signInSummary,
          toRaw: ratio(signInSummary.requestsPerSecond.median, scryptSummary.median),
        },
      };
    } finally {
      await Promise.all([tessera.stop(), betterAuth.stop()]);
    }
  },
  render(result) {
    return [
      `argon2id m = 19456 KiB, t = 2, p = 1 (the server's parameters), ${result.concurrency} in flight. The raw rate is \`argon2.verify\` in the benchmark process with no server running; logins are \`POST /auth/login\` with ${result.concurrency} connections.`,
      '',
      table(
        ['measure', 'per second (median)', 'spread', '× raw argon2id', 'p50 ms', 'p99 ms'],
        [
          [
            'raw argon2id verify',
            count(result.rawArgon2PerSecond.median),
            spread(result.rawArgon2PerSecond),
            '1.00×',
            '—',
            '—',
          ],
          [
            'Tessera logins',
            count(result.loginsPerSecond.requestsPerSecond.median),
            spread(result.loginsPerSecond.requestsPerSecond),
            times(result.toRaw),
            ms(result.loginsPerSecond.p50),
            ms(result.loginsPerSecond.p99),
          ],
        ],
      ),
      ...(result.betterAuth ? betterAuthRows(result.betterAuth, result.concurrency) : []),
      '',
      `\`GET /auth/me\` at a fixed ${result.meRate} req/s (10 connections), alone and while the login flood runs:`,
      '',
      table(
        ['/auth/me', 'p50 ms', 'p99 ms (median)', 'p99 per run', 'failed'],
        [
          [
            'alone',
            ms(result.meAlone.p50),
            ms(result.meAlone.p99),
            result.meAlone.p99Runs.map(ms).join(', '),
            String(result.meAlone.failures),
          ],
          [
            'under a login flood',
            ms(result.meUnderFlood.p50),
            ms(result.meUnderFlood.p99),
            result.meUnderFlood.p99Runs.map(ms).join(', '),
            String(result.meUnderFlood.failures),
          ],
        ],
      ),
      '',
      `p99 under the flood is ${times(ratio(result.meUnderFlood.p99, result.meAlone.p99))} the p99 alone.`,
    ].join('\n');
  },
});

function betterAuthRows(betterAuth: NonNullable<LoginResult['betterAuth']>, concurrency: number): string[] {
  const { N, r, p, keyLength } = betterAuth.scrypt;
  const completed = betterAuth.signInsPerSecond.requestsPerSecond.median > 0;
  return [
    '',
    `Better Auth in the same run: its default password hash is scrypt (node:crypto) with N = ${N}, r = ${r}, p = ${p}, a ${keyLength}-byte key and a 16-byte salt, ${(128 * N * r) / 2 ** 20} MiB per hash (better-auth → \`@better-auth/utils/password\`). Raw is that scrypt in the benchmark process; sign-ins are \`POST /api/auth/sign-in/email\` with ${concurrency} connections, each creating a session row.`,
    '',
    table(
      ['measure', 'per second (median)', 'spread', '× raw scrypt', 'p50 ms', 'p99 ms', 'failed'],
      [
        [
          'raw scrypt (Better Auth parameters)',
          count(betterAuth.rawScryptPerSecond.median),
          spread(betterAuth.rawScryptPerSecond),
          '1.00×',
          '—',
          '—',
          '—',
        ],
        [
          'Better Auth sign-ins',
          count(betterAuth.signInsPerSecond.requestsPerSecond.median),
          spread(betterAuth.signInsPerSecond.requestsPerSecond),
          times(betterAuth.toRaw),
          // No sign-in completed within a run (a quick run on a busy machine): no latency either.
          completed ? ms(betterAuth.signInsPerSecond.p50) : '—',
          completed ? ms(betterAuth.signInsPerSecond.p99) : '—',
          String(betterAuth.signInsPerSecond.failures),
        ],
      ],
    ),
    '',
    'The two hashes are not equally strong, so the rates are not a like-for-like ranking: each server is compared with its own hash at its own parameters.',
  ];
}
