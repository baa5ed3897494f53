import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { buildApp, loadConfig, loggerOptions, SqliteStore } from '../src/index.ts';
import { cleanup, runCli, tempDatabaseUrl } from './helpers/server-process.ts';
import { call, PASSWORD, uniqueEmail } from './helpers/test-server.ts';

const CLI = join(import.meta.dirname, '..', '..', 'cli', 'src', 'main.ts');

test('no token, password or refresh token reaches a log line, even at debug level (OPS-03)', async () => {
  const { dir, lines, store, app, server } = await serveLoggingAtDebug();
  try {
    const email = uniqueEmail();
    await call(server, 'POST', '/auth/signup', { body: { email, password: PASSWORD } });
    await call(server, 'POST', '/auth/login', { body: { email, password: 'a wrong password' } });
    const login = await call(server, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
    const accessToken = String(login.body['accessToken']);
    const refreshToken = String(login.body['refreshToken']);
    await call(server, 'GET', `/auth/me?access_token=${accessToken}`);
    await call(server, 'GET', '/auth/me', {
      token: accessToken,
      headers: { cookie: `session=${refreshToken}` },
    });
    await call(server, 'GET', `/auth/refresh?refreshToken=${refreshToken}`);
    const rotated = await call(server, 'POST', '/auth/refresh', { body: { refreshToken } });
    await call(server, 'POST', '/auth/logout', { token: String(rotated.body['accessToken']) });
    await call(server, 'GET', '/auth/me', { token: accessToken.slice(0, -3) + 'AAA' });
    await store.close(); // a store failure is logged with its cause
    await call(server, 'POST', '/auth/refresh', {
      body: { refreshToken: String(rotated.body['refreshToken']) },
    });

    const log = lines.join('');
    assert.ok(lines.length > 10, 'requests were logged');
    assert.match(log, /store unavailable/);
    for (const secret of [
      PASSWORD,
      'a wrong password',
      accessToken,
      refreshToken,
      String(rotated.body['refreshToken']),
    ]) {
      assert.ok(!log.includes(secret), `secret in log: ${secret.slice(0, 12)}…`);
    }
    assert.doesNotMatch(log, /eyJ[A-Za-z0-9_-]{10,}|tsr1_[A-Za-z0-9_-]{10,}|argon2id/);
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a password reset writes neither the link nor the new password to the log; unset SMTP is warned of once', async () => {
  const { dir, lines, store, app, server } = await serveLoggingAtDebug();
  try {
    const email = uniqueEmail();
    await call(server, 'POST', '/auth/signup', { body: { email, password: PASSWORD } });
    assert.equal((await call(server, 'POST', '/auth/password/forgot', { body: { email } })).status, 202);
    await app.tessera.recovery.idle();
    await app.tessera.mail.idle();
    let token = '';
    for (const file of readdirSync(join(dir, 'mail'))) {
      const mail = await simpleParser(readFileSync(join(dir, 'mail', file)));
      token ||= /reset-password#token=([A-Za-z0-9_-]+)/.exec(mail.text ?? '')?.[1] ?? '';
    }
    assert.equal(token.length, 43);
    const newPassword = 'the new secret passphrase';
    const reset = await call(server, 'POST', '/auth/password/reset', { body: { token, newPassword } });
    assert.equal(reset.status, 204);
    await call(server, 'POST', '/auth/password/reset', { body: { token, newPassword } });

    const log = lines.join('');
    assert.match(log, /"mail sent"/);
    assert.equal(lines.filter((line) => line.includes('TESSERA_SMTP_URL is not set')).length, 1);
    for (const secret of [token, newPassword, PASSWORD]) {
      assert.ok(!log.includes(secret), `secret in log: ${secret.slice(0, 12)}…`);
    }
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * `tessera serve` as a real process with its stdout captured, at debug level, port 0: the address
 * it listens on is read from its own "Server listening" line, so no port is guessed.
 */
async function serveCapturingLogs(format: string): Promise<{
  url: string;
  stop: () => Promise<{ code: number | null; stdout: string; stderr: string }>;
}> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      PATH: process.env['PATH'],
      // In the repository the packages resolve to their sources through this export condition.
      ...(process.env['NODE_OPTIONS'] ? { NODE_OPTIONS: process.env['NODE_OPTIONS'] } : {}),
      NO_COLOR: '1',
      TESSERA_DATABASE_URL: tempDatabaseUrl('tessera-log-'),
      TESSERA_HOST: '127.0.0.1',
      TESSERA_PORT: '0',
      TESSERA_LOG_LEVEL: 'debug',
      TESSERA_LOG_FORMAT: format,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then(() => reject(new Error(`server exited before listening: ${stderr}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      const [code] = await exited;
      return { code, stdout, stderr };
    },
  };
}

/** Every kind of secret a client sends, in every place it could be sent; returns the secrets. */
async function sendSecrets(server: { url: string }): Promise<string[]> {
  const email = uniqueEmail();
  await call(server, 'POST', '/auth/signup', { body: { email, password: PASSWORD } });
  await call(server, 'POST', '/auth/login', { body: { email, password: 'a wrong password' } });
  const login = await call(server, 'POST', '/auth/login', {
    body: { email, password: PASSWORD },
    headers: { 'x-request-id': 'trace-me-42' },
  });
  const accessToken = String(login.body['accessToken']);
  const refreshToken = String(login.body['refreshToken']);
  await call(server, 'GET', `/auth/me?access_token=${accessToken}`);
  await call(server, 'GET', '/auth/me', {
    token: accessToken,
    headers: { cookie: `session=${refreshToken}` },
  });
  await call(server, 'GET', `/auth/refresh?refreshToken=${refreshToken}`);
  const rotated = await call(server, 'POST', '/auth/refresh', { body: { refreshToken } });
  await call(server, 'POST', '/auth/refresh', { body: { refreshToken: `${refreshToken}x` } });
  await call(server, 'POST', '/auth/logout', { token: String(rotated.body['accessToken']) });
  await call(server, 'GET', '/auth/me', { token: accessToken.slice(0, -3) + 'AAA' });
  return [PASSWORD, 'a wrong password', accessToken, refreshToken, String(rotated.body['refreshToken'])];
}

function assertNoSecret(log: string, secrets: string[]): void {
  for (const secret of secrets) assert.ok(!log.includes(secret), `secret in log: ${secret.slice(0, 12)}…`);
  assert.doesNotMatch(log, /eyJ[A-Za-z0-9_-]{10,}|tsr1_[A-Za-z0-9_-]{10,}|argon2id|Bearer /);
}

test('TESSERA_LOG_FORMAT=pretty: readable lines from a real process, still without any secret', async (t) => {
  t.after(cleanup);
  const server = await serveCapturingLogs('pretty');
  const secrets = await sendSecrets(server);
  const { code, stdout } = await server.stop();
  assert.equal(code, 0, 'SIGTERM exits 0');

  assertNoSecret(stdout, secrets);
  const lines = stdout.trimEnd().split('\n');
  assert.ok(lines.length > 10, stdout);
  for (const line of lines) {
    // A headline per entry, `[time] LEVEL: message`, or an indented `key: value` under it.
    assert.match(line, /^(\[\d\d:\d\d:\d\d\.\d{3}\] (DEBUG|INFO|WARN|ERROR): \S| {4}\S)/, line);
    assert.doesNotMatch(line, /^\s*\{/, `a JSON line: ${line}`);
  }
  // One line per request, when it is answered (issue 12 §3): no separate "incoming request" line.
  assert.match(stdout, /INFO: request completed POST \/auth\/login 200 in \d+\.\d ms \(trace-me-42\)$/m);
  assert.match(stdout, /INFO: request completed GET \/auth\/me 401 in \d+\.\d ms \([0-9a-f-]{36}\)$/m);
  assert.doesNotMatch(stdout, /incoming request/);
  assert.match(stdout, /INFO: shutting down\n {4}signal: "SIGTERM"$/m);
});

test('TESSERA_LOG_FORMAT=json (the default): one JSON object a line from a real process', async (t) => {
  t.after(cleanup);
  const server = await serveCapturingLogs('json');
  const secrets = await sendSecrets(server);
  const { code, stdout, stderr } = await server.stop();
  assert.equal(code, 0, 'SIGTERM exits 0');
  // Nothing but log lines: no runtime warning at start (Node's ExperimentalWarning for
  // stripTypeScriptTypes, used by the demo page, was one) that an operator would take for a fault.
  assert.equal(stderr, '');

  assertNoSecret(stdout, secrets);
  const entries = stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const login = entries.filter((entry) => entry['reqId'] === 'trace-me-42' && entry['req'] !== undefined);
  // Exactly one line for the request, carrying what an operator reads it for.
  assert.equal(login.length, 1, JSON.stringify(login));
  assert.deepEqual(login[0]?.['req'], { id: 'trace-me-42', method: 'POST', path: '/auth/login' });
  assert.deepEqual(login[0]?.['res'], { statusCode: 200 });
  assert.equal(login[0]?.['msg'], 'request completed');
  assert.equal(typeof login[0]?.['responseTime'], 'number');
});

test('an unknown TESSERA_LOG_FORMAT stops start-up with exit 2, naming the variable', async (t) => {
  t.after(cleanup);
  const run = await runCli(['serve'], {
    TESSERA_DATABASE_URL: tempDatabaseUrl('tessera-log-'),
    TESSERA_LOG_FORMAT: 'yaml',
  });
  assert.equal(run.code, 2, run.stderr);
  assert.match(
    run.stderr,
    /^tessera: invalid configuration: TESSERA_LOG_FORMAT: must be one of json, pretty$/m,
  );
});

/** A server on loopback over a fresh SQLite file, logging at debug level into `lines`. */
async function serveLoggingAtDebug(): Promise<{
  dir: string;
  lines: string[];
  store: SqliteStore;
  app: Awaited<ReturnType<typeof buildApp>>;
  server: { url: string };
}> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-log-'));
  const lines: string[] = [];
  const stream = { write: (line: string) => void lines.push(line) };
  const config = loadConfig({
    TESSERA_DATABASE_URL: `sqlite:${join(dir, 't.db')}`,
    TESSERA_PORT: '0',
    TESSERA_MAIL_DIR: join(dir, 'mail'),
  });
  const store = SqliteStore.open(join(dir, 't.db'));
  const app = await buildApp({ config, store, logger: loggerOptions('debug', stream) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const server = { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
  return { dir, lines, store, app, server };
}
