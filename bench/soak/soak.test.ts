import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

/**
 * The soak script itself, run short (about 30 s, and 70 s with short lifetimes, so kept out of `npm test`; run it with
 * `node --test bench/soak/soak.test.ts` after changing the script). Fifteen seconds say nothing
 * about memory, so the growth limit is lifted here; every other check must pass as in a real run.
 */

const SCRIPT = join(import.meta.dirname, 'main.ts');

async function soak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

test('a short soak drives every step, checks every acknowledged write and passes', async () => {
  const run = await soak([
    '--duration',
    '15s',
    '--users',
    '4',
    '--warmup',
    '2s',
    '--sample',
    '1s',
    '--max-growth',
    '1000',
  ]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^soak: PASS$/m);
  const checks = run.stdout.split('\n').filter((line) => /^ {2}(PASS|FAIL) /.test(line));
  assert.equal(checks.length, 9, run.stdout);
  assert.deepEqual(
    checks.filter((line) => !line.startsWith('  PASS')),
    [],
  );
  for (const step of [
    'login 200',
    'me 200',
    'refresh 200',
    'sessions 200',
    'logout (bearer) 204',
    'signup 201',
  ]) {
    assert.match(run.stdout, new RegExp(`^ {2}${step.replace(/[()]/g, '\\$&')}: [1-9]`, 'm'), step);
  }
  assert.match(run.stdout, /^ {2}verify: sign-up kept 200: [1-9]/m);
  assert.match(run.stdout, /^ {2}verify: logged_out session refused 401 invalid_grant: [1-9]/m);
});

test('with short lifetimes, rows and the SQLite file stop growing after the first lifetimes', async () => {
  const run = await soak([
    '--duration',
    '60s',
    '--users',
    '4',
    '--lifetime',
    '8s',
    '--sample',
    '1s',
    '--max-growth',
    '1000',
  ]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^ {2}PASS {2}session, token and audit rows bounded after the lifetimes: /m);
  assert.match(run.stdout, /^ {2}PASS {2}database file bounded after the lifetimes: /m);
  assert.match(run.stdout, /^soak: PASS$/m);
});

test('bad usage exits 2 with the usage', async () => {
  const run = await soak(['--duration', 'forever']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--duration must be a duration/);
  assert.match(run.stderr, /^Usage: npm run soak -- \[options\]$/m);
});
