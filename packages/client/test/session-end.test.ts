import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call } from '../../server/test/helpers/test-server.ts';
import type { TesseraClient } from '../src/index.ts';
import { loggedIn, PASSWORD, setup } from './helpers/setup.ts';
import { MemoryWebStorage } from './helpers/fakes.ts';
import { localStorageAdapter } from '../src/index.ts';

const ACCESS_TTL_MS = 15 * 60 * 1000;

/** Sends 10 concurrent requests after the session died; the end must come once and then silence. */
async function assertCleanEnd(
  client: TesseraClient,
  net: { count(path: string): number },
  expected: string,
): Promise<void> {
  const reasons: string[] = [];
  client.on('end', ({ reason }) => reasons.push(reason));
  const responses = await Promise.all(Array.from({ length: 10 }, () => client.fetch('/auth/me')));
  assert.deepEqual(new Set(responses.map((response) => response.status)), new Set([401]));
  await Promise.all(responses.map((response) => response.text()));
  assert.deepEqual(reasons, [expected]);
  assert.equal(net.count('/auth/refresh'), 1, 'one refresh attempt, then stop');
  assert.equal(net.count('/auth/me'), 10, 'no replay once the session is over');
  // Afterwards: no timer, no token, no refresh; requests go out bare.
  const after = await client.fetch('/auth/me');
  assert.equal(after.status, 401);
  await after.body?.cancel();
  assert.equal(net.count('/auth/refresh'), 1);
  assert.equal(await client.refresh(), false);
  assert.deepEqual(reasons, [expected]);
}

test('refresh_token_reused ends the session: one end event, tokens cleared, no loop', async (t) => {
  const storage = new MemoryWebStorage();
  const { client, server, net, clock } = await loggedIn(t, {
    client: { storage: localStorageAdapter(storage) },
  });
  // A thief rotated the refresh token; after the grace window, the client's copy is a replay.
  const stored = JSON.parse(storage.getItem('tessera.tokens') ?? '{}') as { refreshToken: string };
  assert.equal(
    (await call(server, 'POST', '/auth/refresh', { body: { refreshToken: stored.refreshToken } })).status,
    200,
  );
  server.clock.advance(ACCESS_TTL_MS + 60_000);
  await assertCleanEnd(client, net, 'refresh_token_reused');
  assert.equal(storage.getItem('tessera.tokens'), null);
  assert.deepEqual(clock.pending(), []);
});

test('invalid_grant (session revoked elsewhere) ends the session without a loop', async (t) => {
  const { client, server, net, email } = await loggedIn(t);
  const admin = await call(server, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
  const token = String(admin.body['accessToken']);
  const sessions = await call(server, 'GET', '/auth/sessions', { token });
  const mine = sessions.body.find((session) => session['current'] !== true);
  assert.ok(mine);
  assert.equal((await call(server, 'DELETE', `/auth/sessions/${String(mine['id'])}`, { token })).status, 204);
  await assertCleanEnd(client, net, 'invalid_grant');
});

test('session_expired (absolute lifetime over) ends the session without a loop', async (t) => {
  const { client, server, net } = await loggedIn(t, {
    env: { TESSERA_SESSION_MAX_AGE: '1h', TESSERA_REFRESH_TTL: '1h' },
  });
  server.clock.advance(2 * 3600 * 1000);
  await assertCleanEnd(client, net, 'session_expired');
});

test('the background refresh ends the session the same way', async (t) => {
  const { client, server, clock, net } = await loggedIn(t, {
    env: { TESSERA_ACCESS_TTL: '5m', TESSERA_SESSION_MAX_AGE: '10m', TESSERA_REFRESH_TTL: '10m' },
  });
  server.clock.advance(11 * 60 * 1000);
  const ended = new Promise((resolve) => client.on('end', resolve));
  clock.advance(5 * 60 * 1000);
  assert.deepEqual(await ended, { reason: 'session_expired' });
  assert.equal(net.count('/auth/refresh'), 1);
  assert.deepEqual(clock.pending(), []);
});

test('a refresh that returns after logout does not bring the session back', async (t) => {
  const { newClient, email, server } = await setup(t);
  let release = (): void => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const client = newClient({
    fetch: async (input, init) => {
      const request = new Request(input, init);
      if (new URL(request.url).pathname === '/auth/refresh') await gate;
      return globalThis.fetch(request);
    },
  });
  await client.login({ email, password: PASSWORD });
  const refreshing = client.refresh();
  const logout = client.logout();
  release();
  await logout;
  assert.equal(await refreshing, false);
  server.clock.advance(1000);
  await assert.rejects(client.me(), { code: 'invalid_token' });
});
