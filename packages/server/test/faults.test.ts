import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { buildApp, loadConfig, SqliteStore } from '../src/index.ts';
import { assertErrorReply } from './helpers/assertions.ts';
import { call, PASSWORD, signupAndLogin, startServer, uniqueEmail } from './helpers/test-server.ts';

test('store locked by another process: 503 unavailable with Retry-After, then recovery without restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-fault-'));
  const file = join(dir, 'tessera.db');
  const config = loadConfig({ TESSERA_DATABASE_URL: `sqlite:${file}`, TESSERA_PORT: '0' });
  const store = SqliteStore.open(file, { busyTimeoutMs: 200 });
  const app = await buildApp({ config, store });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const server = { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
  const intruder = new DatabaseSync(file);
  try {
    const session = await signupAndLogin(server);
    intruder.exec('BEGIN EXCLUSIVE');

    const signup = await call(server, 'POST', '/auth/signup', {
      body: { email: uniqueEmail(), password: PASSWORD },
    });
    assertErrorReply(signup, 503, 'unavailable');
    assert.ok(Number(signup.headers.get('retry-after')) > 0, 'Retry-After');
    const refresh = await call(server, 'POST', '/auth/refresh', {
      body: { refreshToken: session.refreshToken },
    });
    assert.equal(refresh.status, 503, refresh.text);
    // Token checks need no store: signed-in users keep working while it is down.
    assert.equal((await call(server, 'GET', '/.well-known/jwks.json')).status, 200);

    intruder.exec('COMMIT');
    const again = await call(server, 'POST', '/auth/refresh', {
      body: { refreshToken: session.refreshToken },
    });
    assert.equal(again.status, 200, 'the refresh token survived the outage: nothing half-written');
    assert.equal((await call(server, 'GET', '/readyz')).status, 200);
  } finally {
    if (intruder.isTransaction) intruder.exec('ROLLBACK');
    intruder.close();
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('store closed underneath the server: /readyz answers 503, /healthz stays 200, no crash', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-fault-'));
  const file = join(dir, 'tessera.db');
  const config = loadConfig({ TESSERA_DATABASE_URL: `sqlite:${file}`, TESSERA_PORT: '0' });
  const store = SqliteStore.open(file);
  const app = await buildApp({ config, store });
  try {
    await store.close();
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.deepEqual(Object.keys(ready.json()).sort(), ['error', 'message']);
    assert.equal(ready.json<{ error: string }>().error, 'unavailable');
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    const login = await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { email: 'a@b.co', password: PASSWORD },
    });
    assert.equal(login.statusCode, 503);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no key able to sign: 503, and the refresh token is not consumed by the failed attempt', async () => {
  const server = await startServer();
  try {
    const session = await signupAndLogin(server);
    const db = new DatabaseSync(join(server.dir, 'tessera.db'));
    try {
      db.prepare('UPDATE signing_keys SET retires_at = ?').run(server.clock.now());
    } finally {
      db.close();
    }
    await server.app.tessera.keyring.load();
    const refresh = await call(server, 'POST', '/auth/refresh', {
      body: { refreshToken: session.refreshToken },
    });
    assertErrorReply(refresh, 503, 'unavailable');
    const login = await call(server, 'POST', '/auth/login', {
      body: { email: session.email, password: PASSWORD },
    });
    assertErrorReply(login, 503, 'unavailable');

    await server.app.tessera.keyring.ensureSigningKey(server.clock.now());
    server.clock.advanceSeconds(60); // past the grace window: a consumed token would now be reuse
    const again = await call(server, 'POST', '/auth/refresh', {
      body: { refreshToken: session.refreshToken },
    });
    assert.equal(again.status, 200, again.text);
  } finally {
    await server.close();
  }
});
