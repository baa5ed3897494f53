import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, loadConfig, loggerOptions, SqliteStore } from '../src/index.ts';
import { call, PASSWORD, uniqueEmail } from './helpers/test-server.ts';

test('no token, password or refresh token reaches a log line, even at debug level (OPS-03)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-log-'));
  const lines: string[] = [];
  const stream = { write: (line: string) => void lines.push(line) };
  const config = loadConfig({ TESSERA_DATABASE_URL: `sqlite:${join(dir, 't.db')}`, TESSERA_PORT: '0' });
  const store = SqliteStore.open(join(dir, 't.db'));
  const app = await buildApp({ config, store, logger: loggerOptions('debug', stream) });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const server = { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
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
