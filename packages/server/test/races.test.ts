import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { addressKey } from '../src/security/rate-limits.ts';
import type { SessionRecord } from '../src/stores/store.ts';
import { assertRefused } from './helpers/assertions.ts';
import {
  call,
  decodePayload,
  login,
  PASSWORD,
  signupAndLogin,
  startServer,
  type TestServer,
} from './helpers/test-server.ts';

describe('races between credential checks and credential changes', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ TESSERA_LOGIN_MAX_FAILURES: '5', TESSERA_IP_RATE_LIMIT: '100000' });
  });
  after(async () => server.close());

  test('concurrent wrong guesses are counted as they arrive: at most the limit get checked (AUTH-04)', async () => {
    const { email } = await signupAndLogin(server);
    const replies = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call(server, 'POST', '/auth/login', { body: { email, password: `guess number ${i}` } }),
      ),
    );
    const checked = replies.filter((reply) => reply.status === 401).length;
    const limited = replies.filter((reply) => reply.status === 429).length;
    assert.equal(checked, 5, `${checked} guesses checked`);
    assert.equal(limited, 25);
  });

  test('logins with the old password racing a password change leave no session behind (RT-07)', async () => {
    const victim = await signupAndLogin(server);
    const newPassword = 'the new long passphrase';
    const logins: Array<Promise<Awaited<ReturnType<typeof call>>>> = [];
    const change = call(server, 'POST', '/auth/password', {
      token: victim.accessToken,
      body: { currentPassword: PASSWORD, newPassword },
    });
    // Old-password logins arriving before, during and after the change (under the account limit
    // of 5 per window, cleared by each success).
    for (let i = 0; i < 40; i++) {
      logins.push(call(server, 'POST', '/auth/login', { body: { email: victim.email, password: PASSWORD } }));
      await new Promise((resolve) => setTimeout(resolve, 8));
    }
    assert.equal((await change).status, 204);
    const replies = await Promise.all(logins);
    for (const reply of replies.filter((r) => r.status === 200)) {
      const me = await call(server, 'GET', '/auth/me', { token: String(reply.body['accessToken']) });
      assert.equal(me.status, 401, 'a session opened with the old password does not outlive the change');
      const refresh = await call(server, 'POST', '/auth/refresh', {
        body: { refreshToken: String(reply.body['refreshToken']) },
      });
      assert.equal(refresh.status, 401);
    }
  });

  test('a change from a session revoked meanwhile, or with a stale password, changes nothing', async () => {
    const owner = await signupAndLogin(server);
    const thief = await login(server, owner.email);
    const store = server.store;
    const user = await store.getUserById(owner.userId);
    assert.ok(user);
    const ownerChange = await store.changePassword(
      {
        userId: user.id,
        currentHash: user.passwordHash,
        newHash: 'owner-new-hash',
        keepSessionId: owner.sessionId,
      },
      server.clock.now(),
    );
    assert.equal(ownerChange.kind, 'changed');
    // The thief's change was verified against the old hash, from a session now revoked.
    const thiefChange = await store.changePassword(
      {
        userId: user.id,
        currentHash: user.passwordHash,
        newHash: 'thief-new-hash',
        keepSessionId: thief.sessionId,
      },
      server.clock.now(),
    );
    assert.equal(thiefChange.kind, 'stale');
    assert.equal((await store.getUserById(user.id))?.passwordHash, 'owner-new-hash');
    // A login that verified the old hash cannot create its session now.
    const session: SessionRecord = {
      id: randomUUID(),
      userId: user.id,
      createdAt: server.clock.now(),
      lastUsedAt: server.clock.now(),
      expiresAt: server.clock.now() + 60_000,
      idleExpiresAt: server.clock.now() + 60_000,
      accessExpiresAt: server.clock.now() + 60_000,
      revokedAt: null,
      revokeReason: null,
      userAgent: null,
      ip: null,
      amr: ['pwd'],
      authTime: server.clock.now(),
    };
    assert.equal(await store.createSession(session, null, user), false);
    assert.equal(await store.getSession(session.id), null, 'nothing half-written');
  });

  test('a login racing a demotion gets a token with the role the user has now (issue 12 §4)', async () => {
    const store = server.store;
    const [demoted, other] = [await signupAndLogin(server), await signupAndLogin(server)];
    for (const { userId } of [demoted, other])
      await store.updateUser(userId, { role: 'admin' }, server.clock.now());
    // The login reads the account (an admin), then an admin demotes it while the password hashes.
    const getUserByEmail = store.getUserByEmail.bind(store);
    store.getUserByEmail = async (email) => {
      const read = await getUserByEmail(email);
      store.getUserByEmail = getUserByEmail;
      const change = await store.updateUser(demoted.userId, { role: 'user' }, server.clock.now());
      assert.equal(change.kind, 'updated');
      return read;
    };
    try {
      assert.equal((await store.getUserById(demoted.userId))?.role, 'admin');
      const raced = await login(server, demoted.email);
      assert.equal(decodePayload(raced.accessToken)['role'], 'user', 'the token carries the new role');
      assert.equal((await call(server, 'GET', '/admin/users', { token: raced.accessToken })).status, 403);
    } finally {
      store.getUserByEmail = getUserByEmail;
    }
  });

  test('failed logins by a stranger do not stop the owner changing the password', async () => {
    const owner = await signupAndLogin(server);
    for (let i = 0; i < 6; i++)
      await call(server, 'POST', '/auth/login', { body: { email: owner.email, password: `x guess ${i}` } });
    assertRefused(
      await call(server, 'POST', '/auth/login', { body: { email: owner.email, password: PASSWORD } }),
      429,
      'rate_limited',
    );
    const change = await call(server, 'POST', '/auth/password', {
      token: owner.accessToken,
      body: { currentPassword: PASSWORD, newPassword: 'owner chose a new one' },
    });
    assert.equal(change.status, 204, change.text);
  });
});

test('per-address limits count an IPv6 /64 as one client', () => {
  assert.equal(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8:1:2::1'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:DB8:0001:0002::ffff'), '2001:db8:1:2::/64');
  assert.equal(addressKey('::1'), '0:0:0:0::/64');
  assert.equal(addressKey('203.0.113.9'), '203.0.113.9');
  assert.equal(addressKey('::ffff:203.0.113.9'), '::ffff:203.0.113.9');
  // Zone ids name an interface, not a client, and may contain colons or dots: never a throw.
  assert.equal(addressKey('fe80::1%eth0.5'), 'fe80:0:0:0::/64');
  assert.equal(addressKey('fe80::1%1:2:3:4:5:6:7:8'), 'fe80:0:0:0::/64');
  assert.equal(addressKey('::'), '0:0:0:0::/64');
});

test('a hostile forwarded address from a trusted proxy is a client like any other, never a 500', async () => {
  const server = await startServer({ TESSERA_TRUST_PROXY: '127.0.0.1' });
  try {
    for (const forwarded of [
      'fe80::1%1:2:3:4:5:6:7:8',
      '203.0.113.9, 1::2%3:4:5:6:7:8:9:a',
      'not-an-ip',
      '::',
    ]) {
      const reply = await call(server, 'POST', '/auth/login', {
        body: { email: 'nobody@example.test', password: PASSWORD },
        headers: { 'x-forwarded-for': forwarded },
      });
      assertRefused(reply, 401, 'invalid_credentials', forwarded);
    }
  } finally {
    await server.close();
  }
});
