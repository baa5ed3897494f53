import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertTokenRefused } from './helpers/assertions.ts';
import { eventually } from './helpers/instance.ts';
import { call, login, signupAndLogin, startServer } from './helpers/test-server.ts';

test('two servers on one SQLite file: a revocation on one is refused by the other within about a second', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-shared-'));
  const a = await startServer({}, { dir });
  const b = await startServer({}, { dir, clock: a.clock });
  try {
    const session = await signupAndLogin(a);
    const other = await login(a, session.email);
    assert.equal(
      (await call(b, 'GET', '/auth/me', { token: session.accessToken })).status,
      200,
      'B trusts A’s tokens',
    );

    assert.equal((await call(a, 'POST', '/auth/logout', { token: session.accessToken })).status, 204);
    const started = Date.now();
    const refused = await eventually(
      () => call(b, 'GET', '/auth/me', { token: session.accessToken }),
      401,
      3000,
    );
    assertTokenRefused(refused, 'token_revoked');
    assert.ok(Date.now() - started < 2500, `B refused after ${Date.now() - started} ms`);
    assert.equal(
      (await call(b, 'GET', '/auth/me', { token: other.accessToken })).status,
      200,
      'other sessions unaffected',
    );

    // Reuse detected on B is felt on A as well.
    const rotated = await call(b, 'POST', '/auth/refresh', { body: { refreshToken: other.refreshToken } });
    assert.equal(rotated.status, 200);
    a.clock.advanceSeconds(11);
    assert.equal(
      (await call(a, 'POST', '/auth/refresh', { body: { refreshToken: other.refreshToken } })).status,
      401,
    );
    const fresh = String(rotated.body['accessToken']);
    assertTokenRefused(
      await eventually(() => call(b, 'GET', '/auth/me', { token: fresh }), 401, 3000),
      'token_revoked',
    );
  } finally {
    await b.close({ keepData: true });
    await a.close({ keepData: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a key rotated in by another server is accepted at once; unknown kids reload at most once per cooldown', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-shared-'));
  const a = await startServer({}, { dir });
  const b = await startServer({}, { dir, clock: a.clock });
  try {
    await a.app.tessera.keyring.rotate(a.clock.now(), a.clock.now());
    const session = await signupAndLogin(a);
    // B has not reloaded its keys yet (its timer runs every 30 s), yet takes A's new key.
    assert.equal((await call(b, 'GET', '/auth/me', { token: session.accessToken })).status, 200);

    let reads = 0;
    const listKeys = b.store.keys.list.bind(b.store.keys);
    b.store.keys.list = async () => {
      reads += 1;
      return listKeys();
    };
    const [header = '', payload = '', signature = ''] = session.accessToken.split('.');
    for (let i = 0; i < 20; i++) {
      const forged = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>;
      forged['kid'] = `random-${i}`;
      const token = `${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${payload}.${signature}`;
      assertTokenRefused(await call(b, 'GET', '/auth/me', { token }));
    }
    assert.ok(reads <= 1, `${reads} key reloads for 20 unknown kids within the cooldown`);
  } finally {
    await b.close({ keepData: true });
    await a.close({ keepData: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
