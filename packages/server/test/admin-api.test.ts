import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLI_ACTOR } from '../src/audit/audit.ts';
import { assertRefused, assertTokenRefused } from './helpers/assertions.ts';
import {
  call,
  login,
  PASSWORD,
  signupAndLogin,
  startServer,
  uniqueEmail,
  type LoggedIn,
  type Reply,
  type TestServer,
} from './helpers/test-server.ts';

/**
 * The admin API (SPEC §4, issue 7): only an enabled admin's token gets in; role changes, disabling
 * (which revokes at once), session revocation and the audit log, each change audited.
 */

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server.close());

/** A fresh user made admin (as `tessera users set-role` would), logged in again for a token with the role. */
async function newAdmin(): Promise<LoggedIn> {
  const user = await signupAndLogin(server);
  await server.app.tessera.administration.updateUser(
    user.userId,
    { role: 'admin' },
    CLI_ACTOR,
    server.clock.now(),
  );
  return login(server, user.email);
}

const AGENT = { 'user-agent': 'admin-test/1.0' };

async function audit(admin: LoggedIn, query = ''): Promise<Array<Record<string, unknown>>> {
  const reply = await call(server, 'GET', `/admin/audit${query}`, { token: admin.accessToken });
  assert.equal(reply.status, 200, reply.text);
  return reply.body['items'] as Array<Record<string, unknown>>;
}

describe('admin API access', () => {
  const routes = (id: string): Array<[string, string, unknown?]> => [
    ['GET', '/admin/users'],
    ['PATCH', `/admin/users/${id}`, { role: 'admin' }],
    ['POST', `/admin/users/${id}/revoke-sessions`],
    ['GET', '/admin/audit'],
  ];

  test('a user token gets 403 insufficient_scope on every admin route, and changes nothing', async () => {
    const user = await signupAndLogin(server);
    for (const [method, path, body] of routes(user.userId)) {
      const reply = await call(server, method, path, { token: user.accessToken, body });
      assertRefused(reply, 403, 'insufficient_scope', `${method} ${path}`);
      assert.match(reply.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    }
    const me = await call(server, 'GET', '/auth/me', { token: user.accessToken });
    assert.equal(me.body['role'], 'user');
    const still = await call(server, 'GET', '/auth/me', { token: user.accessToken });
    assert.equal(still.status, 200, 'its sessions were not revoked');
  });

  test('no token is 401; a bad one invalid_token', async () => {
    for (const [method, path, body] of routes('someone')) {
      const bare = await call(server, method, path, { body });
      assert.equal(bare.status, 401, `${method} ${path}`);
      assertTokenRefused(await call(server, method, path, { body, token: 'not.a.token' }));
    }
  });

  test("a demoted admin's sessions end at once, here and on the revocation feed", async () => {
    const keeper = await newAdmin();
    const demoted = await newAdmin();
    const reply = await call(server, 'PATCH', `/admin/users/${demoted.userId}`, {
      token: keeper.accessToken,
      body: { role: 'user' },
    });
    assert.equal(reply.status, 200, reply.text);
    // Its sessions end: the old token says `role: admin` and resource servers trust tokens, so
    // the revocation (also on the feed) is what stops it everywhere, not only here.
    assertTokenRefused(
      await call(server, 'GET', '/admin/users', { token: demoted.accessToken }),
      'token_revoked',
    );
    assertTokenRefused(
      await call(server, 'GET', '/auth/me', { token: demoted.accessToken }),
      'token_revoked',
    );
    const feed = await call(server, 'GET', '/auth/revocations?since=0');
    const sids = (feed.body['revoked'] as Array<{ sid: string }>).map((entry) => entry.sid);
    assert.ok(sids.includes(demoted.sessionId), 'the demotion reaches the revocation feed');
    assertRefused(
      await call(server, 'POST', '/auth/refresh', { body: { refreshToken: demoted.refreshToken } }),
      401,
      'invalid_grant',
    );
    const again = await login(server, demoted.email);
    assertRefused(
      await call(server, 'GET', '/admin/users', { token: again.accessToken }),
      403,
      'insufficient_scope',
    );
  });
});

describe('GET /admin/users', () => {
  test('pages newest first with an opaque cursor, filters by email prefix', async () => {
    const admin = await newAdmin();
    const prefix = `page${process.pid}x`;
    const emails: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      server.clock.advance(1);
      const email = `${prefix}${i}@example.test`;
      emails.push(email);
      await call(server, 'POST', '/auth/signup', { body: { email, password: PASSWORD } });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?q=${prefix.toUpperCase()}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const reply: Reply = await call(server, 'GET', `/admin/users${query}`, { token: admin.accessToken });
      assert.equal(reply.status, 200, reply.text);
      const items = reply.body['items'] as Array<Record<string, unknown>>;
      assert.ok(items.length <= 2);
      for (const item of items) {
        assert.deepEqual(Object.keys(item).sort(), [
          'createdAt',
          'disabled',
          'disabledAt',
          'email',
          'emailVerified',
          'id',
          'name',
          'role',
          'updatedAt',
        ]);
      }
      seen.push(...items.map((item) => String(item['email'])));
      cursor = reply.body['next'] as string | null;
    } while (cursor !== null);
    assert.deepEqual(seen, [...emails].reverse());
  });

  test('refuses a limit over the maximum and a forged cursor', async () => {
    const admin = await newAdmin();
    for (const query of ['?limit=101', '?limit=0', '?limit=abc', '?cursor=bm9wZQ', '?extra=1']) {
      const reply = await call(server, 'GET', `/admin/users${query}`, { token: admin.accessToken });
      assertRefused(reply, 400, 'invalid_request', query);
    }
  });
});

describe('PATCH /admin/users/:id', () => {
  test('set-role admin: the next login carries role and scope admin; audited with actor, IP and agent', async () => {
    const admin = await newAdmin();
    const user = await signupAndLogin(server);
    const reply = await call(server, 'PATCH', `/admin/users/${user.userId}`, {
      token: admin.accessToken,
      body: { role: 'admin' },
      headers: AGENT,
    });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body['role'], 'admin');
    const promoted = await login(server, user.email);
    const users = await call(server, 'GET', '/admin/users?limit=1', { token: promoted.accessToken });
    assert.equal(users.status, 200, users.text);

    const entry = (await audit(admin, `?subject=${user.userId}`)).find(
      (item) => item['action'] === 'role_changed',
    );
    assert.deepEqual(
      { ...entry, id: undefined, occurredAt: undefined },
      {
        id: undefined,
        occurredAt: undefined,
        actor: admin.userId,
        action: 'role_changed',
        subject: user.userId,
        ip: '127.0.0.1',
        userAgent: 'admin-test/1.0',
        detail: { from: 'user', to: 'admin' },
      },
    );
  });

  test('disable: the access token is refused at once, refresh and login too; enable lets them log in again', async () => {
    const admin = await newAdmin();
    const user = await signupAndLogin(server);
    const disabled = await call(server, 'PATCH', `/admin/users/${user.userId}`, {
      token: admin.accessToken,
      body: { disabled: true },
    });
    assert.equal(disabled.status, 200, disabled.text);
    assert.equal(disabled.body['disabled'], true);

    assertTokenRefused(await call(server, 'GET', '/auth/me', { token: user.accessToken }), 'token_revoked');
    const refresh = await call(server, 'POST', '/auth/refresh', {
      body: { refreshToken: user.refreshToken },
    });
    assertRefused(refresh, 401, 'invalid_grant');
    const relogin = await call(server, 'POST', '/auth/login', {
      body: { email: user.email, password: PASSWORD },
    });
    assertRefused(relogin, 401, 'invalid_credentials');
    const feed = await call(server, 'GET', '/auth/revocations');
    const sids = (feed.body['revoked'] as Array<{ sid: string }>).map((entry) => entry.sid);
    assert.ok(sids.includes(user.sessionId), 'in the revocation feed for verifiers');

    const enabled = await call(server, 'PATCH', `/admin/users/${user.userId}`, {
      token: admin.accessToken,
      body: { disabled: false },
    });
    assert.equal(enabled.body['disabled'], false);
    await login(server, user.email);

    const actions = (await audit(admin, `?subject=${user.userId}`)).map((entry) => entry['action']);
    assert.deepEqual(actions.slice(0, 4), [
      'login_succeeded',
      'user_enabled',
      'user_disabled',
      'login_succeeded',
    ]);
    const [, , disable] = await audit(admin, `?subject=${user.userId}`);
    assert.deepEqual(disable?.['detail'], { revokedSessions: 1 });
  });

  test('the last enabled admin can neither demote nor disable themself; with a second admin they can', async () => {
    // A server of its own: the other tests' admins would count.
    const alone = await startServer();
    try {
      const user = await signupAndLogin(alone);
      await alone.app.tessera.administration.updateUser(user.userId, { role: 'admin' }, CLI_ACTOR, 0);
      const admin = await login(alone, user.email);
      for (const body of [{ role: 'user' }, { disabled: true }, { role: 'user', disabled: true }]) {
        const reply = await call(alone, 'PATCH', `/admin/users/${admin.userId}`, {
          token: admin.accessToken,
          body,
        });
        assertRefused(reply, 400, 'invalid_request', JSON.stringify(body));
        assert.match(String(reply.body['message']), /no enabled admin/);
      }
      const other = await signupAndLogin(alone);
      await call(alone, 'PATCH', `/admin/users/${other.userId}`, {
        token: admin.accessToken,
        body: { role: 'admin' },
      });
      const demoted = await call(alone, 'PATCH', `/admin/users/${admin.userId}`, {
        token: admin.accessToken,
        body: { role: 'user' },
      });
      assert.equal(demoted.status, 200, demoted.text);
    } finally {
      await alone.close();
    }
  });

  test('unknown user is 404; an empty or unknown body field is 400', async () => {
    const admin = await newAdmin();
    const missing = await call(server, 'PATCH', '/admin/users/no-such-user', {
      token: admin.accessToken,
      body: { role: 'admin' },
    });
    assertRefused(missing, 404, 'not_found');
    for (const body of [{}, { role: 'root' }, { passwordHash: 'x' }, { disabled: 'yes' }]) {
      const reply = await call(server, 'PATCH', `/admin/users/${admin.userId}`, {
        token: admin.accessToken,
        body,
      });
      assertRefused(reply, 400, 'invalid_request', JSON.stringify(body));
    }
  });
});

describe('POST /admin/users/:id/revoke-sessions', () => {
  test("revokes every session: the user's tokens are refused at once; audited", async () => {
    const admin = await newAdmin();
    const user = await signupAndLogin(server);
    const second = await login(server, user.email);
    const reply = await call(server, 'POST', `/admin/users/${user.userId}/revoke-sessions`, {
      token: admin.accessToken,
    });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(reply.body, { revoked: 2 });
    for (const session of [user, second]) {
      assertTokenRefused(
        await call(server, 'GET', '/auth/me', { token: session.accessToken }),
        'token_revoked',
      );
    }
    await login(server, user.email); // not disabled: they may log in again
    const entry = (await audit(admin, `?subject=${user.userId}`)).find(
      (item) => item['action'] === 'sessions_revoked',
    );
    assert.deepEqual(entry?.['detail'], { sessions: 2, reason: 'admin_revoked' });
    assert.equal(entry?.['actor'], admin.userId);
    const missing = await call(server, 'POST', '/admin/users/nobody/revoke-sessions', {
      token: admin.accessToken,
    });
    assertRefused(missing, 404, 'not_found');
  });
});

describe('audit log', () => {
  test('records each security event, and never a secret', async () => {
    const admin = await newAdmin();
    const user = await signupAndLogin(server);
    const headers = AGENT;
    // A failed login for an existing account and for an unknown email read the same.
    const unknownEmail = uniqueEmail('nobody');
    await call(server, 'POST', '/auth/login', {
      body: { email: user.email, password: 'wrong password 1' },
      headers,
    });
    await call(server, 'POST', '/auth/login', {
      body: { email: unknownEmail, password: 'wrong password 2' },
      headers,
    });
    const failures = (await audit(admin, '?limit=2')).map(({ id: _id, occurredAt: _at, ...rest }) => rest);
    const failed = {
      actor: null,
      action: 'login_failed',
      subject: null,
      ip: '127.0.0.1',
      userAgent: 'admin-test/1.0',
      detail: { reason: 'invalid_credentials' },
    };
    assert.deepEqual(failures, [failed, failed]);

    // Refresh reuse (after the grace window), password change, logout, logout-all, key rotation.
    const refreshed = await call(server, 'POST', '/auth/refresh', {
      body: { refreshToken: user.refreshToken },
    });
    server.clock.advanceSeconds(11);
    await call(server, 'POST', '/auth/refresh', { body: { refreshToken: user.refreshToken }, headers });
    const again = await login(server, user.email);
    const newPassword = 'a brand new passphrase';
    const changed = await call(server, 'POST', '/auth/password', {
      token: again.accessToken,
      body: { currentPassword: PASSWORD, newPassword },
    });
    assert.equal(changed.status, 204, changed.text);
    const other = await login(server, user.email, newPassword);
    await call(server, 'POST', '/auth/logout', { token: other.accessToken });
    await call(server, 'POST', '/auth/logout-all', { token: again.accessToken });
    const now = server.clock.now();
    const key = await server.app.tessera.keyring.rotate(now, now + 300_000);

    const entries = await audit(admin, `?subject=${user.userId}`);
    const actions = entries.map((entry) => entry['action']).reverse();
    assert.deepEqual(actions, [
      'user_created',
      'login_succeeded',
      'refresh_reuse_detected',
      'login_succeeded',
      'password_changed',
      'login_succeeded',
      'logout',
      'logout_all',
    ]);
    const byAction = new Map(entries.map((entry) => [entry['action'], entry]));
    assert.deepEqual(byAction.get('refresh_reuse_detected')?.['detail'], {
      sessionId: user.sessionId,
      reason: 'reuse_detected',
    });
    assert.equal(byAction.get('refresh_reuse_detected')?.['actor'], null);
    assert.deepEqual(byAction.get('logout')?.['detail'], { sessionId: other.sessionId, reason: 'logout' });
    assert.equal(byAction.get('logout_all')?.['actor'], user.userId);
    const [rotated] = await audit(admin, '?limit=1');
    assert.equal(rotated?.['action'], 'key_rotated');
    assert.equal(rotated?.['actor'], 'system');
    assert.equal((rotated?.['detail'] as Record<string, unknown>)['kid'], key.kid);

    // No password, token, hash or unknown email anywhere in the log.
    const everything = JSON.stringify(await audit(admin, '?limit=100'));
    const refreshToken = String(refreshed.body['refreshToken']);
    for (const secret of [
      PASSWORD,
      newPassword,
      'wrong password',
      unknownEmail,
      user.refreshToken,
      refreshToken,
      user.accessToken,
      again.accessToken,
      '$argon2',
    ]) {
      assert.ok(!everything.includes(secret), `the audit log holds ${secret.slice(0, 20)}`);
    }
  });

  test('pages by cursor, newest first, and counts admin actions in /metrics', async () => {
    const admin = await newAdmin();
    const first = await call(server, 'GET', '/admin/audit?limit=3', { token: admin.accessToken });
    const next = String(first.body['next']);
    const second = await call(server, 'GET', `/admin/audit?limit=3&cursor=${next}`, {
      token: admin.accessToken,
    });
    assert.equal(second.status, 200, second.text);
    const ids = [
      ...(first.body['items'] as Array<{ id: string }>),
      ...(second.body['items'] as Array<{ id: string }>),
    ].map((entry) => Number(entry.id));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
    );
    assert.equal(new Set(ids).size, ids.length);
    assertRefused(
      await call(server, 'GET', '/admin/audit?cursor=-1', { token: admin.accessToken }),
      400,
      'invalid_request',
    );

    const metrics = await call(server, 'GET', '/metrics');
    assert.match(metrics.text, /tessera_admin_actions_total\{action="role_changed"\} [1-9]/);
  });
});

test('self-service sign-up is audited as user_created, with the client and no secret', async () => {
  const admin = await newAdmin();
  const email = uniqueEmail('signup-audit');
  const signup = await call(server, 'POST', '/auth/signup', {
    body: { email, password: PASSWORD },
    headers: AGENT,
  });
  const id = (signup.body['user'] as { id: string }).id;
  const entries = await audit(admin, `?subject=${id}`);
  const created = entries.find((entry) => entry['action'] === 'user_created');
  assert.ok(created, JSON.stringify(entries));
  assert.equal(created['actor'], id);
  assert.equal(created['userAgent'], 'admin-test/1.0');
  assert.ok(!JSON.stringify(created).includes(PASSWORD));
});
