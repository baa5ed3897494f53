import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TesseraRequestError } from '../src/index.ts';
import { call } from '../../server/test/helpers/test-server.ts';
import { loggedIn, PASSWORD, setup } from './helpers/setup.ts';

test('login, me, sessions and logout against a real server', async (t) => {
  const { client, email, net } = await loggedIn(t);
  const me = await client.me();
  assert.equal(me.email, email);
  const sessions = await client.sessions();
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0]?.current, true);
  const ended = new Promise((resolve) => client.on('end', resolve));
  await client.logout();
  assert.deepEqual(await ended, { reason: 'logout' });
  assert.equal(net.count('/auth/logout'), 1);
  // Over: the next call goes out without a token and the server refuses it.
  await assert.rejects(client.me(), { code: 'invalid_token', status: 401 });
  assert.equal(net.requests.at(-1)?.headers.get('authorization'), null);
});

test('a failed login rejects with the stable code and starts nothing', async (t) => {
  const { newClient, email } = await setup(t);
  const client = newClient();
  let started = false;
  client.on('start', () => (started = true));
  const error = await client.login({ email, password: 'wrong password!' }).catch((caught: unknown) => caught);
  assert.ok(error instanceof TesseraRequestError);
  assert.equal(error.code, 'invalid_credentials');
  assert.equal(error.status, 401);
  assert.equal(started, false);
});

test('signup of a taken email rejects with email_taken', async (t) => {
  const { newClient, email } = await setup(t);
  await assert.rejects(newClient().signup({ email, password: PASSWORD }), {
    code: 'email_taken',
    status: 409,
  });
});

test('changePassword keeps this session and ends the others', async (t) => {
  const { client, newClient, email } = await loggedIn(t);
  const other = newClient();
  await other.login({ email, password: PASSWORD });
  await client.changePassword({ currentPassword: PASSWORD, newPassword: 'a brand new passphrase' });
  assert.equal((await client.me()).email, email);
  const ended = new Promise((resolve) => other.on('end', resolve));
  await assert.rejects(other.me(), { code: 'token_revoked' });
  assert.deepEqual(await ended, { reason: 'invalid_grant' });
});

test('revokeSession ends another session; logoutAll ends every one', async (t) => {
  const { client, newClient, email } = await loggedIn(t);
  const other = newClient();
  await other.login({ email, password: PASSWORD });
  const otherSession = (await client.sessions()).find((session) => !session.current);
  assert.ok(otherSession);
  await client.revokeSession(otherSession.id);
  await assert.rejects(other.me(), { code: 'token_revoked' });
  await assert.rejects(client.revokeSession(otherSession.id), { code: 'not_found', status: 404 });

  const third = newClient();
  await third.login({ email, password: PASSWORD });
  const ends: string[] = [];
  client.on('end', ({ reason }) => ends.push(reason));
  await client.logoutAll();
  assert.deepEqual(ends, ['logout']);
  await assert.rejects(third.me(), { code: 'token_revoked' });
});

test('client.fetch attaches the token only to the token origins', async (t) => {
  const { client, server, net } = await loggedIn(t);
  const own = await client.fetch(`${server.url}/auth/me`);
  assert.equal(own.status, 200);
  await own.body?.cancel();
  assert.match(net.requests.at(-1)?.headers.get('authorization') ?? '', /^Bearer /);

  // The same server under another origin name (localhost) stands in for a third party.
  const foreign = server.url.replace('127.0.0.1', 'localhost');
  const elsewhere = await client.fetch(`${foreign}/auth/me`);
  assert.equal(elsewhere.status, 401);
  await elsewhere.body?.cancel();
  assert.equal(net.requests.at(-1)?.headers.get('authorization'), null);

  // A relative path resolves against baseUrl outside a browser.
  const relative = await client.fetch('/auth/me');
  assert.equal(relative.status, 200);
  await relative.body?.cancel();
});

test('logout still ends locally when the session is already over at the server', async (t) => {
  const { client, server, net } = await loggedIn(t);
  const me = await client.fetch(`${server.url}/auth/me`);
  await me.body?.cancel();
  const token = net.requests.at(-1)?.headers.get('authorization')?.slice('Bearer '.length) ?? '';
  assert.equal((await call(server, 'POST', '/auth/logout', { token })).status, 204);
  const ended = new Promise((resolve) => client.on('end', resolve));
  await client.logout();
  assert.deepEqual(await ended, { reason: 'logout' });
  assert.equal(await client.refresh(), false);
});
