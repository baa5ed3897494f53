import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRefused, assertTokenRefused } from './helpers/assertions.ts';
import {
  call,
  login,
  PASSWORD,
  signupAndLogin,
  startServer,
  type TestServer,
} from './helpers/test-server.ts';

describe('revocation is immediate at the server', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => server.close());

  const me = (token: string) => call(server, 'GET', '/auth/me', { token });
  const refresh = (refreshToken: string) => call(server, 'POST', '/auth/refresh', { body: { refreshToken } });

  test('logout with the access token ends the session: access and refresh tokens refused (RT-05)', async () => {
    const session = await signupAndLogin(server);
    const other = await login(server, session.email);
    const reply = await call(server, 'POST', '/auth/logout', { token: session.accessToken });
    assert.equal(reply.status, 204);
    assertTokenRefused(await me(session.accessToken), 'token_revoked');
    assertRefused(await refresh(session.refreshToken), 401, 'invalid_grant');
    // Another device of the same user is not affected.
    assert.equal((await me(other.accessToken)).status, 200);
  });

  test('logout with only the refresh token ends the session (RFC 7009)', async () => {
    const session = await signupAndLogin(server);
    const reply = await call(server, 'POST', '/auth/logout', {
      body: { refreshToken: session.refreshToken },
    });
    assert.equal(reply.status, 204);
    assertTokenRefused(await me(session.accessToken), 'token_revoked');
    assertRefused(await refresh(session.refreshToken), 401, 'invalid_grant');
  });

  test('logout with an unknown, garbage or already-revoked refresh token: 204 all the same (RT-06)', async () => {
    const session = await signupAndLogin(server);
    await call(server, 'POST', '/auth/logout', { body: { refreshToken: session.refreshToken } });
    for (const refreshToken of ['tsr1_' + 'x'.repeat(43), 'garbage', session.refreshToken]) {
      const reply = await call(server, 'POST', '/auth/logout', { body: { refreshToken } });
      assert.equal(reply.status, 204, refreshToken);
      assert.equal(reply.text, '');
    }
  });

  test("an authenticated logout with another user's refresh token leaves that user's session intact (RT-06)", async () => {
    const alice = await signupAndLogin(server);
    const bob = await signupAndLogin(server);
    const reply = await call(server, 'POST', '/auth/logout', {
      token: alice.accessToken,
      body: { refreshToken: bob.refreshToken },
    });
    assert.equal(reply.status, 204);
    assert.equal((await me(bob.accessToken)).status, 200);
    assert.equal((await refresh(bob.refreshToken)).status, 200);
  });

  test('logout without any credential: 401', async () => {
    assertRefused(await call(server, 'POST', '/auth/logout'), 401, 'invalid_token');
  });

  test('logout-all ends every session of the user, and only theirs', async () => {
    const a1 = await signupAndLogin(server);
    const a2 = await login(server, a1.email);
    const b = await signupAndLogin(server);
    assert.equal((await call(server, 'POST', '/auth/logout-all', { token: a1.accessToken })).status, 204);
    for (const session of [a1, a2]) {
      assertTokenRefused(await me(session.accessToken), 'token_revoked');
      assertRefused(await refresh(session.refreshToken), 401, 'invalid_grant');
    }
    assert.equal((await me(b.accessToken)).status, 200);
    // A new login after logout-all works.
    const again = await login(server, a1.email);
    assert.equal((await me(again.accessToken)).status, 200);
  });

  test('the session list shows the user’s live sessions and marks the current one', async () => {
    const first = await signupAndLogin(server);
    const second = await login(server, first.email);
    const reply = await call(server, 'GET', '/auth/sessions', { token: second.accessToken, headers: {} });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body.length, 2);
    const current = reply.body.find((entry) => entry['current'] === true);
    assert.equal(current?.['id'], second.sessionId);
    for (const entry of reply.body) {
      assert.deepEqual(Object.keys(entry).sort(), [
        'createdAt',
        'current',
        'expiresAt',
        'id',
        'ip',
        'lastUsedAt',
        'userAgent',
      ]);
      assert.equal(entry['ip'], '127.0.0.1');
    }
  });

  test('deleting a session revokes it at once; another user’s session id is 404 and stays alive', async () => {
    const alice = await signupAndLogin(server);
    const phone = await login(server, alice.email);
    const bob = await signupAndLogin(server);

    const foreign = await call(server, 'DELETE', `/auth/sessions/${bob.sessionId}`, {
      token: alice.accessToken,
    });
    assertRefused(foreign, 404, 'not_found');
    assert.equal((await me(bob.accessToken)).status, 200);
    assertRefused(
      await call(server, 'DELETE', '/auth/sessions/nope', { token: alice.accessToken }),
      404,
      'not_found',
    );

    const reply = await call(server, 'DELETE', `/auth/sessions/${phone.sessionId}`, {
      token: alice.accessToken,
    });
    assert.equal(reply.status, 204);
    assertTokenRefused(await me(phone.accessToken), 'token_revoked');
    assertRefused(await refresh(phone.refreshToken), 401, 'invalid_grant');
    assert.equal((await me(alice.accessToken)).status, 200);
    const list = await call(server, 'GET', '/auth/sessions', { token: alice.accessToken });
    assert.deepEqual(
      list.body.map((entry) => entry['id']),
      [alice.sessionId],
    );
    // Deleting it again: it is gone.
    assertRefused(
      await call(server, 'DELETE', `/auth/sessions/${phone.sessionId}`, { token: alice.accessToken }),
      404,
      'not_found',
    );
  });

  test('password change needs the current password and revokes every other session (RT-07)', async () => {
    const here = await signupAndLogin(server);
    const elsewhere = await login(server, here.email);
    const newPassword = 'a different long passphrase';

    const wrong = await call(server, 'POST', '/auth/password', {
      token: here.accessToken,
      body: { currentPassword: 'not the password', newPassword },
    });
    assertRefused(wrong, 401, 'invalid_credentials');
    assert.equal((await me(elsewhere.accessToken)).status, 200, 'a failed change revokes nothing');

    const short = await call(server, 'POST', '/auth/password', {
      token: here.accessToken,
      body: { currentPassword: PASSWORD, newPassword: 'short' },
    });
    assertRefused(short, 400, 'invalid_request');

    const ok = await call(server, 'POST', '/auth/password', {
      token: here.accessToken,
      body: { currentPassword: PASSWORD, newPassword },
    });
    assert.equal(ok.status, 204, ok.text);
    assertTokenRefused(await me(elsewhere.accessToken), 'token_revoked');
    assertRefused(await refresh(elsewhere.refreshToken), 401, 'invalid_grant');
    assert.equal((await me(here.accessToken)).status, 200, 'the session that changed it goes on');
    assert.equal((await refresh(here.refreshToken)).status, 200);

    assertRefused(
      await call(server, 'POST', '/auth/login', { body: { email: here.email, password: PASSWORD } }),
      401,
      'invalid_credentials',
    );
    assert.equal(
      (await call(server, 'POST', '/auth/login', { body: { email: here.email, password: newPassword } }))
        .status,
      200,
    );
  });

  test('revocations survive a restart: loaded from the store before serving', async () => {
    const session = await signupAndLogin(server);
    await call(server, 'POST', '/auth/logout', { token: session.accessToken });
    const { dir, clock } = server;
    await server.close({ keepData: true });
    server = await startServer({}, { dir, clock });
    assertTokenRefused(await me(session.accessToken), 'token_revoked');
  });
});
