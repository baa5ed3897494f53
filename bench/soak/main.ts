#!/usr/bin/env node
/**
 * The soak test (issue 7): sustained mixed load on a real `tessera serve` over loopback for a set
 * time, then checks that no acknowledged write was lost, memory stayed flat, and no error but the
 * expected ones appeared. Not part of `npm test`; run by hand: `npm run soak -- --duration 10m`.
 * docs/operations.md describes the options and the report.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parseDuration } from '@tessera/protocol';
import { Ledger, type Account } from './ledger.ts';
import { ServerProcess } from './server.ts';
import { sampleStorage, storageBounded, type StorageSample } from './storage.ts';
import { memoryGrowth, verifyAcknowledgedWrites, type Check, type Sample } from './verify.ts';
import { DEFAULT_MIX, signUp, VirtualUser } from './virtual-user.ts';

const USAGE = `Usage: npm run soak -- [options]

  --duration <d>      how long the load runs (900, 90s, 10m, 1h)           default 10m
  --users <n>         virtual users, each looping login, /auth/me, refresh,
                      sessions list, logout (and now and then a sign-up, a
                      wrong password, a retried and a stolen refresh)       default 16
  --database <url>    TESSERA_DATABASE_URL (sqlite:<file> or postgres://…)  default a new temporary SQLite file
  --warmup <d>        memory samples before this are not judged            default a quarter of --duration
  --max-growth <pct>  allowed resident-memory growth after the warm-up     default 10
  --sample <d>        how often the server's resident memory is read       default 2s
  --lifetime <d>      short lifetimes (access, refresh, session, audit) and a
                      cleanup sweep every half of it; on the SQLite default the
                      rows and the file must stop growing after the lifetimes  default off

Exit codes: 0 every check passed, 1 a check failed, 2 bad usage.`;

const REUSE_GRACE_SECONDS = 10;

interface Options {
  duration: number;
  users: number;
  database: string | undefined;
  warmup: number;
  maxGrowth: number;
  sample: number;
  lifetime: number | undefined;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10m' },
      users: { type: 'string', default: '16' },
      database: { type: 'string' },
      warmup: { type: 'string' },
      'max-growth': { type: 'string', default: '10' },
      sample: { type: 'string', default: '2s' },
      lifetime: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const duration = seconds('--duration', values.duration);
  const users = Number(values.users);
  if (!Number.isInteger(users) || users < 1 || users > 1000) throw new Error('--users must be 1 to 1000');
  const maxGrowth = Number(values['max-growth']);
  if (!Number.isFinite(maxGrowth) || maxGrowth <= 0)
    throw new Error('--max-growth must be a positive percentage');
  return {
    duration,
    users,
    database: values.database,
    warmup: values.warmup === undefined ? duration / 4 : seconds('--warmup', values.warmup),
    maxGrowth: maxGrowth / 100,
    sample: Math.max(1, seconds('--sample', values.sample)),
    lifetime: values.lifetime === undefined ? undefined : seconds('--lifetime', values.lifetime),
  };
}

function seconds(name: string, text: string): number {
  const value = parseDuration(text);
  if (value === undefined || value < 1)
    throw new Error(`${name} must be a duration like 90s or 10m, got "${text}"`);
  return value;
}

/** Every lifetime the server has set to `seconds`, and a cleanup sweep every half of it. */
function shortLifetimes(seconds: number): Record<string, string> {
  return {
    TESSERA_ACCESS_TTL: `${seconds}s`,
    TESSERA_REFRESH_TTL: `${seconds}s`,
    TESSERA_SESSION_MAX_AGE: `${seconds}s`,
    TESSERA_AUDIT_RETENTION: `${seconds}s`,
    TESSERA_CLOCK_SKEW: '1s',
    TESSERA_CLEANUP_INTERVAL: `${Math.max(1, Math.floor(seconds / 2))}s`,
  };
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function soak(options: Options): Promise<boolean> {
  const dir = options.database === undefined ? mkdtempSync(join(tmpdir(), 'tessera-soak-')) : undefined;
  const file = dir === undefined ? undefined : join(dir, 'tessera.db');
  const { lifetime } = options;
  // The grace window must stay well inside the refresh lifetime for the retry steps to mean anything.
  const grace =
    lifetime === undefined ? REUSE_GRACE_SECONDS : Math.min(REUSE_GRACE_SECONDS, Math.floor(lifetime / 4));
  const env = {
    TESSERA_DATABASE_URL: options.database ?? `sqlite:${file!}`,
    TESSERA_ISSUER: 'http://soak.tessera.test',
    TESSERA_REUSE_GRACE: `${grace}s`,
    ...(lifetime === undefined ? {} : shortLifetimes(lifetime)),
    // Every virtual user comes from 127.0.0.1 and some mistype on purpose: the limiters would
    // answer 429 to the load itself, which is not what a soak measures.
    TESSERA_IP_RATE_LIMIT: '1000000000',
    TESSERA_LOGIN_MAX_FAILURES: '1000000',
  };
  const where =
    options.database === undefined
      ? 'a temporary SQLite file'
      : options.database.replace(/\/\/[^@/]*@/, '//…@');
  const log = (line: string): void => void process.stderr.write(`soak: ${line}\n`);
  log(`${options.users} virtual users for ${options.duration}s on ${where}`);

  const checks: Check[] = [];
  const ledger = new Ledger();
  const samples: Sample[] = [];
  const storage: StorageSample[] = [];
  let server: ServerProcess | undefined;
  try {
    server = await ServerProcess.start(env);
    const base = server.url;
    // The pool: two accounts a user, made before the clock starts.
    const pools: Account[][] = [];
    for (let i = 0; i < options.users; i += 1) {
      const pool: Account[] = [];
      for (let j = 0; j < 2; j += 1) {
        const account = await signUp(server.url, ledger, `vu${i}`);
        if (account) pool.push(account);
      }
      pools.push(pool);
    }

    const start = Date.now();
    const end = start + options.duration * 1000;
    const users = pools.map(
      (pool, i) =>
        new VirtualUser(base, ledger, pool, {
          mix: DEFAULT_MIX,
          graceMs: grace * 1000,
          name: `vu${i}`,
        }),
    );
    const running = Promise.all(users.map((user) => user.run(() => Date.now() >= end)));
    let lastReport = start;
    let lastRequests = 0;
    while (Date.now() < end) {
      await sleep(Math.min(options.sample * 1000, Math.max(0, end - Date.now())));
      const rss = await server.rss();
      const at = (Date.now() - start) / 1000;
      if (rss !== undefined) samples.push({ at, rss });
      const stored = lifetime !== undefined && file !== undefined ? sampleStorage(file, at) : undefined;
      if (stored) storage.push(stored);
      if (Date.now() - lastReport >= 15_000 || Date.now() >= end) {
        const rate = ((ledger.requests - lastRequests) * 1000) / (Date.now() - lastReport);
        log(
          `${at.toFixed(0)}s: ${ledger.requests} requests (${rate.toFixed(0)}/s), rss ${rss === undefined ? '?' : mib(rss)}, ${ledger.surpriseCount} unexpected`,
        );
        [lastReport, lastRequests] = [Date.now(), ledger.requests];
      }
    }
    await running;
    const elapsed = (Date.now() - start) / 1000;
    const loadRequests = ledger.requests;
    const iterations = users.reduce((sum, user) => sum + user.iterations, 0);

    const loadProblems = server.problems;
    const loadExit = await server.stop();
    checks.push({
      name: 'SIGTERM after the load: graceful exit 0',
      ok: loadExit === 0,
      detail: `exit ${loadExit}`,
    });

    // Acknowledged writes are checked by a new process on the same database: nothing only in memory counts.
    log('load over; restarting the server to check every acknowledged write');
    server = await ServerProcess.start(env);
    checks.push(...(await verifyAcknowledgedWrites(server.url, ledger, (lifetime ?? Infinity) * 1000)));
    const verifyExit = await server.stop();
    const problems = [...loadProblems, ...server.problems];

    checks.push({
      name: 'no 5xx answer',
      ok: ledger.serverErrors === 0,
      detail: String(ledger.serverErrors),
    });
    checks.push({
      name: 'every answer was the expected one',
      ok: ledger.surpriseCount === 0,
      detail: `${ledger.surpriseCount} unexpected of ${ledger.requests}`,
    });
    const codes = [...new Set([...ledger.errorCodes.keys(), ...ledger.expectedErrors.keys()])].sort();
    const codesMatch = codes.every((code) => ledger.errorCodes.get(code) === ledger.expectedErrors.get(code));
    checks.push({
      name: 'error counts by code are the expected ones only',
      ok: codesMatch,
      detail:
        codes
          .map(
            (code) => `${code} ${ledger.errorCodes.get(code) ?? 0}/${ledger.expectedErrors.get(code) ?? 0}`,
          )
          .join(', ') || 'none',
    });
    checks.push({
      name: 'server logged no warning or error',
      ok: problems.length === 0 && verifyExit === 0,
      detail:
        problems.length === 0 ? `none (verification server exit ${verifyExit})` : `${problems.length} lines`,
    });
    const memory = memoryGrowth(samples, options.warmup);
    checks.push(
      memory === undefined
        ? {
            name: 'resident memory flat after warm-up',
            ok: false,
            detail: `too few samples after ${options.warmup}s (${samples.length} in all)`,
          }
        : {
            name: 'resident memory flat after warm-up',
            ok: memory.growth < options.maxGrowth,
            detail: `${mib(memory.first)} → ${mib(memory.last)} (${(memory.growth * 100).toFixed(1)} %, limit ${(options.maxGrowth * 100).toFixed(0)} %)`,
          },
    );

    if (lifetime !== undefined && file !== undefined) {
      // Settled once a session could have lived its whole life, expired (plus the skew), and been
      // swept; twice that, so the first sweeps' backlog is behind too.
      checks.push(...storageBounded(storage, 2 * (lifetime + 1 + lifetime / 2)));
    }
    report({ options, where, elapsed, loadRequests, iterations, ledger, samples, storage, checks, problems });
    return checks.every((check) => check.ok);
  } finally {
    if (server && server.child.exitCode === null && server.child.signalCode === null) await server.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

function report(run: {
  options: Options;
  where: string;
  elapsed: number;
  loadRequests: number;
  iterations: number;
  ledger: Ledger;
  samples: Sample[];
  storage: StorageSample[];
  checks: Check[];
  problems: string[];
}): void {
  const { ledger } = run;
  const out: string[] = [];
  out.push(`Tessera soak: ${run.elapsed.toFixed(0)}s, ${run.options.users} virtual users, ${run.where}`);
  out.push(
    `  ${run.loadRequests} requests under load (${(run.loadRequests / run.elapsed).toFixed(0)}/s), ${run.iterations} iterations; ${ledger.requests - run.loadRequests} more to verify`,
  );
  out.push(
    `  acknowledged: ${ledger.accounts.length} sign-ups, ${ledger.sessions.length} sessions (${ledger.count('live')} live, ${ledger.count('logged_out')} logged out, ${ledger.count('reuse_revoked')} revoked for reuse)`,
  );
  const rss = run.samples.map((sample) => sample.rss);
  if (rss.length > 0) {
    out.push(
      `  resident memory: ${rss.length} samples, min ${mib(Math.min(...rss))}, max ${mib(Math.max(...rss))}, last ${mib(rss.at(-1)!)}`,
    );
  }
  const last = run.storage.at(-1);
  if (last) {
    const peak = Math.max(...run.storage.map((sample) => sample.rows));
    out.push(
      `  storage: ${run.storage.length} samples, rows peak ${peak}, last ${last.rows}, ${last.written} written in all; file last ${mib(last.bytes)}, its WAL ${mib(last.walBytes)}`,
    );
  }
  out.push('answers (step, status, code: count):');
  for (const [outcome, count] of [...ledger.outcomes].sort()) out.push(`  ${outcome}: ${count}`);
  if (ledger.surprises.length > 0) {
    out.push(`unexpected answers (first ${ledger.surprises.length} of ${ledger.surpriseCount}):`);
    for (const s of ledger.surprises) out.push(`  ${s.step}: expected ${s.expected}, got ${s.got}`);
  }
  if (run.problems.length > 0) {
    out.push(`server log lines at warn or above (first 10 of ${run.problems.length}):`);
    for (const line of run.problems.slice(0, 10)) out.push(`  ${line.slice(0, 300)}`);
  }
  out.push('checks:');
  for (const check of run.checks) out.push(`  ${check.ok ? 'PASS' : 'FAIL'}  ${check.name}: ${check.detail}`);
  out.push(run.checks.every((check) => check.ok) ? 'soak: PASS' : 'soak: FAIL');
  process.stdout.write(`${out.join('\n')}\n`);
}

let options: Options | undefined;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`soak: ${(error as Error).message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (options === undefined) {
  process.stdout.write(`${USAGE}\n`);
} else {
  try {
    process.exitCode = (await soak(options)) ? 0 : 1;
  } catch (error) {
    // The server did not start, or died: no check can be made.
    process.stderr.write(`soak: FAIL, could not run: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
