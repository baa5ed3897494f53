import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisSessionStore, type SqlStore } from '../src/stores/redis/redis-session-store.ts';
import { SqliteStore } from '../src/stores/sqlite/sqlite-store.ts';
import type { PasswordChangeOutcome, UserChangeOutcome } from '../src/stores/store.ts';
import { deleteKeys, testPrefix, testRedisUrl } from './helpers/redis.ts';
import { MINUTE, seedSession, sessionRecord, T0, tokenRecord } from './store-contract/fixtures.ts';

// A login racing a password change or a disable, where sessions live in Redis and users in SQL:
// the two can no longer share one transaction, so the store brackets the login's SQL check with
// the user's epoch (RedisSessionStore.createSession). These tests force each dangerous interleaving
// by holding a real SQL store's call at a chosen point: the stores and Redis are real, only the
// timing is arranged. Skipped (announced by the Redis store contract) without TESSERA_TEST_REDIS_URL.

type Method = 'getUserById' | 'replacePasswordHash' | 'updateUser';

interface Hold {
  /** Resolves once the held call has done its SQL work and is waiting. */
  reached: Promise<void>;
  release(): void;
}

/**
 * `sql` with the next call of an armed method held after it ran (its result not yet returned), so
 * the test can run the other side of the race exactly there.
 */
function holdable(sql: SqliteStore): { store: SqlStore; arm(method: Method): Hold } {
  const armed = new Map<Method, { reached: () => void; released: Promise<void> }>();
  const store = new Proxy(sql, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      const hold = armed.get(property as Method);
      if (!hold) return method.bind(target);
      armed.delete(property as Method);
      return async (...args: unknown[]) => {
        const result = await method.apply(target, args);
        hold.reached();
        await hold.released;
        return result;
      };
    },
  });
  return {
    store,
    arm(method) {
      let reached!: () => void;
      let release!: () => void;
      const hold = {
        reached: new Promise<void>((resolve) => (reached = resolve)),
        released: new Promise<void>((resolve) => (release = resolve)),
      };
      armed.set(method, { reached, released: hold.released });
      return { reached: hold.reached, release };
    },
  };
}

const redisUrl = testRedisUrl();
if (redisUrl !== undefined) {
  const prefixes: string[] = [];
  after(async () => {
    for (const prefix of prefixes) await deleteKeys(redisUrl, prefix);
  });

  const setup = async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const sql = holdable(SqliteStore.open(':memory:'));
    const store = await RedisSessionStore.open(sql.store, redisUrl, { prefix });
    // The user is logged in once already (the session a password change is made from).
    const seeded = await seedSession(store);
    const login = sessionRecord(seeded.user.id, { createdAt: T0 + MINUTE, lastUsedAt: T0 + MINUTE });
    return { store, sql, ...seeded, login, loginToken: tokenRecord(login) };
  };

  describe('Redis store: a login racing a password change or a disable', () => {
    test('login checked the old password, the change then committed in full: the login is refused', async () => {
      const { store, sql, user, session, login, loginToken } = await setup();
      try {
        const held = sql.arm('getUserById');
        const creating = store.createSession(login, loginToken, user);
        await held.reached; // the login saw the old hash in SQL
        const change = await store.changePassword(
          { userId: user.id, currentHash: user.passwordHash, newHash: 'new-hash', keepSessionId: session.id },
          T0 + 2 * MINUTE,
        );
        assert.equal(change.kind, 'changed');
        held.release();
        assert.equal(await creating, false, 'the epoch moved: refused');
        assert.equal(await store.getSession(login.id), null, 'nothing written');
        assert.equal(await store.findSessionByRefreshToken(loginToken.hash), null);
      } finally {
        await store.close();
      }
    });

    test('login committed between the change’s SQL commit and its Redis step: revoked by that step', async () => {
      const { store, sql, user, session, login, loginToken } = await setup();
      try {
        const loginHeld = sql.arm('getUserById');
        const creating = store.createSession(login, loginToken, user);
        await loginHeld.reached; // the login saw the old hash
        const changeHeld = sql.arm('replacePasswordHash');
        const changing: Promise<PasswordChangeOutcome> = store.changePassword(
          { userId: user.id, currentHash: user.passwordHash, newHash: 'new-hash', keepSessionId: session.id },
          T0 + 2 * MINUTE,
        );
        await changeHeld.reached; // the new hash is committed in SQL; Redis not told yet
        loginHeld.release();
        assert.equal(await creating, true, 'the epoch had not moved yet');
        changeHeld.release();
        const change = await changing;

        assert.deepEqual(change.kind === 'changed' && change.revoked.map((entry) => entry.sessionId), [
          login.id,
        ]);
        const stored = await store.getSession(login.id);
        assert.equal(stored?.revokeReason, 'password_changed');
        assert.equal((await store.getSession(session.id))?.revokedAt, null, 'the changing session stays');
        assert.deepEqual(
          (await store.listRevocations(0, 0)).revoked.map((entry) => entry.sessionId),
          [login.id],
        );
        assert.deepEqual(await store.listActiveSessions(user.id, T0 + 3 * MINUTE), [{ ...session }]);
      } finally {
        await store.close();
      }
    });

    test('login checked an enabled account, the disable then committed in full: the login is refused', async () => {
      const { store, sql, user, login, loginToken } = await setup();
      try {
        const held = sql.arm('getUserById');
        const creating = store.createSession(login, loginToken, user);
        await held.reached;
        const disabled = await store.updateUser(user.id, { disabled: true }, T0 + 2 * MINUTE);
        assert.equal(disabled.kind, 'updated');
        held.release();
        assert.equal(await creating, false);
        assert.equal(await store.getSession(login.id), null);
        assert.deepEqual(await store.listActiveSessions(user.id, T0 + 3 * MINUTE), []);
      } finally {
        await store.close();
      }
    });

    test('login committed between the disable’s SQL commit and its Redis step: revoked by that step', async () => {
      const { store, sql, user, session, login, loginToken } = await setup();
      try {
        const loginHeld = sql.arm('getUserById');
        const creating = store.createSession(login, loginToken, user);
        await loginHeld.reached;
        const disableHeld = sql.arm('updateUser');
        const disabling: Promise<UserChangeOutcome> = store.updateUser(
          user.id,
          { disabled: true },
          T0 + 2 * MINUTE,
        );
        await disableHeld.reached;
        loginHeld.release();
        assert.equal(await creating, true);
        disableHeld.release();
        const outcome = await disabling;

        assert.deepEqual(
          outcome.kind === 'updated' && outcome.revoked.map((entry) => entry.sessionId).sort(),
          [login.id, session.id].sort(),
        );
        assert.equal((await store.getSession(login.id))?.revokeReason, 'user_disabled');
        assert.deepEqual(await store.listActiveSessions(user.id, T0 + 3 * MINUTE), []);
      } finally {
        await store.close();
      }
    });
  });
}
