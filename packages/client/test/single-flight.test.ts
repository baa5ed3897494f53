import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loggedIn } from './helpers/setup.ts';

const ACCESS_TTL_MS = 15 * 60 * 1000;

test('100 concurrent calls near expiry share exactly one refresh request', async (t) => {
  const { client, clock, server, net } = await loggedIn(t);
  let refreshes = 0;
  client.on('refresh', () => (refreshes += 1));
  // Past the refresh lead on the client's clock (the timer fires too and joins the same flight).
  server.clock.advance(ACCESS_TTL_MS - 5000);
  clock.advance(ACCESS_TTL_MS - 5000);
  const responses = await Promise.all(Array.from({ length: 100 }, () => client.fetch('/auth/me')));
  assert.deepEqual(new Set(responses.map((response) => response.status)), new Set([200]));
  await Promise.all(responses.map((response) => response.text()));
  assert.equal(net.count('/auth/refresh'), 1);
  assert.equal(net.count('/auth/me'), 100);
  assert.equal(refreshes, 1);
});

test('after 401 token_expired the client refreshes once and replays every request', async (t) => {
  const { client, server, net } = await loggedIn(t);
  // The server's clock is past expiry and the leeway; the client's clock thinks the token is fresh.
  server.clock.advance(ACCESS_TTL_MS + 60_000);
  const responses = await Promise.all(
    Array.from({ length: 100 }, (_, index) =>
      client.fetch('/auth/me', { headers: { 'x-request': String(index) } }),
    ),
  );
  assert.deepEqual(new Set(responses.map((response) => response.status)), new Set([200]));
  await Promise.all(responses.map((response) => response.text()));
  assert.equal(net.count('/auth/refresh'), 1);
  assert.equal(net.count('/auth/me'), 200, 'each request: the 401, then its replay');
  // The replay carries the request's own headers and a new token.
  const replays = net.requests.filter((request) => request.path === '/auth/me').slice(100);
  assert.equal(new Set(replays.map((request) => request.headers.get('x-request'))).size, 100);
  assert.equal(new Set(replays.map((request) => request.headers.get('authorization'))).size, 1);
});

test('a replayed POST sends its body again', async (t) => {
  const { client, server, net } = await loggedIn(t);
  server.clock.advance(ACCESS_TTL_MS + 60_000);
  const response = await client.fetch('/auth/password', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ currentPassword: 'not the password', newPassword: 'another passphrase' }),
  });
  // The replay reached the password check: its body arrived intact.
  assert.equal(response.status, 401);
  assert.equal(((await response.json()) as { error: string }).error, 'invalid_credentials');
  assert.equal(net.count('/auth/password'), 2);
  assert.equal(net.count('/auth/refresh'), 1);
});
