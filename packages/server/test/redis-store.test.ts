import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../src/index.ts';
import { RedisSessionStore } from '../src/stores/redis/redis-session-store.ts';
import { KEEP_MS } from '../src/stores/redis/lua-scripts.ts';
import { SqliteStore } from '../src/stores/sqlite/sqlite-store.ts';
import type { RevokedSession } from '../src/stores/store.ts';
import { deleteKeys, keysUnder, testPrefix, testRedisUrl } from './helpers/redis.ts';
import {
  DAY,
  MINUTE,
  POLICY,
  rotation,
  SECOND,
  seedSession,
  sessionRecord,
  T0,
  tokenRecord,
} from './store-contract/fixtures.ts';

// What the Redis store does beyond the shared contract: every key expires, instances learn of
// revocations by pub/sub, rotation holds under contention between instances, and deployments with
// different prefixes stay apart. Skipped (announced by the Redis store contract) without
// TESSERA_TEST_REDIS_URL; failed in CI without it.

test('TESSERA_REDIS_PREFIX: tessera: by default, short and plain or refused', () => {
  assert.equal(loadConfig({}).redisPrefix, 'tessera:');
  assert.equal(loadConfig({ TESSERA_REDIS_PREFIX: 'eu-1:auth_' }).redisPrefix, 'eu-1:auth_');
  for (const bad of ['a b', 'pre*', 'x'.repeat(33), 'tessera:{slot}']) {
    assert.throws(
      () => loadConfig({ TESSERA_REDIS_PREFIX: bad }),
      (error) => error instanceof ConfigError && error.variable === 'TESSERA_REDIS_PREFIX',
      bad,
    );
  }
});

const redisUrl = testRedisUrl();
if (redisUrl !== undefined) {
  const prefixes: string[] = [];
  after(async () => {
    for (const prefix of prefixes) await deleteKeys(redisUrl, prefix);
  });
  /** A store on in-memory SQLite and the shared Redis under `prefix` (a fresh one by default). */
  const open = async (prefix = testPrefix()): Promise<RedisSessionStore> => {
    prefixes.push(prefix);
    return RedisSessionStore.open(SqliteStore.open(':memory:'), redisUrl, { prefix });
  };

  describe('Redis store', () => {
    test('every key it writes expires, each at its record’s end plus the margin', async () => {
      const prefix = testPrefix();
      const store = await open(prefix);
      try {
        const { user, session, token } = await seedSession(store);
        const other = await seedSession(store, { user });
        const first = rotation(token.hash, T0 + MINUTE);
        await store.rotateRefreshToken(first);
        await store.rotateRefreshToken(rotation(token.hash, T0 + MINUTE + SECOND)); // grace
        await store.changePassword(
          { userId: user.id, currentHash: user.passwordHash, newHash: 'new', keepSessionId: session.id },
          T0 + 2 * MINUTE,
        );
        const reused = await seedSession(store);
        await store.rotateRefreshToken(rotation(reused.token.hash, T0 + MINUTE));
        await store.rotateRefreshToken(rotation(reused.token.hash, T0 + 2 * MINUTE)); // reuse
        await store.revokeUserSessions(user.id, 'logout_all', T0 + 3 * MINUTE);
        await store.counters.hit('login:someone', MINUTE, T0);
        await store.purgeExpired(
          { sessions: T0, revocations: T0, counters: T0, audit: T0, oneTimeTokens: T0, mail: T0 },
          100,
        );
        await seedSession(store); // one live session, so a user index remains

        const keys = await keysUnder(redisUrl, prefix);
        const kinds = new Set(keys.map((key) => key.slice(prefix.length).split(':')[0]));
        for (const kind of ['session', 'token', 'user-sessions', 'user-epoch', 'revocations', 'counter'])
          assert.ok(kinds.has(kind), `wrote ${kind} keys: ${[...kinds].join()}`);
        assert.ok(keys.includes(`${prefix}revocations:seq`), 'the log sequence');
        const client = new Redis(redisUrl);
        try {
          for (const key of keys) {
            const pttl = await client.pttl(key);
            assert.ok(pttl > 0, `${key} expires (PTTL ${pttl})`);
          }
          // A session lives until its absolute end (not a moment less), plus the margin.
          const sessionTtl = await client.pttl(`${prefix}session:${other.session.id}`);
          const expected = other.session.expiresAt - other.session.createdAt + KEEP_MS;
          assert.ok(sessionTtl <= expected && sessionTtl > expected - 60_000, `${sessionTtl} ≈ ${expected}`);
          // A successor token lives until its own expiry, plus the margin.
          const tokenTtl = await client.pttl(`${prefix}token:${first.successor.hash}`);
          assert.ok(
            tokenTtl <= POLICY.refreshTtlMs + KEEP_MS && tokenTtl > POLICY.refreshTtlMs,
            `${tokenTtl}`,
          );
          // A spent token lives until its session's absolute end, plus the margin: replaying it is
          // caught as reuse for as long as the session can be refreshed, past its own expiry.
          const spentTtl = await client.pttl(`${prefix}token:${token.hash}`);
          const spentExpected = session.expiresAt - (T0 + MINUTE) + KEEP_MS;
          assert.ok(spentTtl <= spentExpected && spentTtl > spentExpected - 60_000, `spent ${spentTtl}`);
          const counterTtl = await client.pttl(`${prefix}counter:login:someone`);
          assert.ok(counterTtl <= MINUTE && counterTtl > MINUTE - 10_000, `counter ${counterTtl}`);
        } finally {
          client.disconnect();
        }
      } finally {
        await store.close();
      }
    });

    test('a revocation on one instance reaches another’s listener at once (pub/sub, no polling)', async () => {
      const prefix = testPrefix();
      const a = await open(prefix);
      const b = await open(prefix);
      try {
        const received: Array<{ at: number; revoked: RevokedSession[] }> = [];
        const stop = b.onRevoked((revoked) => received.push({ at: performance.now(), revoked }));
        await new Promise((resolve) => setTimeout(resolve, 100)); // the SUBSCRIBE is on its way
        const { user, session } = await seedSession(a);
        const second = await seedSession(a, { user });

        const started = performance.now();
        const revoked = await a.revokeSession(session.id, 'logout', T0 + MINUTE);
        const all = await a.revokeUserSessions(user.id, 'logout_all', T0 + 2 * MINUTE);
        const deadline = Date.now() + 2000;
        while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));

        assert.deepEqual(
          received.map((batch) => batch.revoked),
          [[revoked], all],
        );
        assert.deepEqual(
          all.map((entry) => entry.sessionId),
          [second.session.id],
        );
        const latency = received[0]!.at - started;
        assert.ok(latency < 250, `delivered after ${latency.toFixed(1)} ms`);

        stop();
        await a.revokeSession(second.session.id, 'logout', T0); // already revoked: nothing sent
        const third = await seedSession(a, { user });
        await a.revokeSession(third.session.id, 'logout', T0 + 3 * MINUTE);
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(received.length, 2, 'no delivery after unsubscribing');
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('200 concurrent refreshes of one token on two instances: one successor, 199 graced to it', async () => {
      const prefix = testPrefix();
      const a = await open(prefix);
      const b = await open(prefix);
      try {
        const { session, token } = await seedSession(a);
        const requests = Array.from({ length: 200 }, () => rotation(token.hash, T0 + MINUTE));
        const outcomes = await Promise.all(
          requests.map((request, i) => (i % 2 === 0 ? a : b).rotateRefreshToken(request)),
        );
        const rotated = outcomes.flatMap((outcome) => (outcome.kind === 'rotated' ? [outcome] : []));
        const graced = outcomes.flatMap((outcome) => (outcome.kind === 'grace' ? [outcome] : []));
        assert.equal(rotated.length, 1, outcomes.map((outcome) => outcome.kind).join());
        assert.equal(graced.length, 199);
        for (const outcome of graced) assert.equal(outcome.current.hash, rotated[0]!.token.hash);
        let live = 0;
        for (const request of requests)
          if ((await a.findSessionByRefreshToken(request.successor.hash)) !== null) live += 1;
        assert.equal(live, 1, 'exactly one successor stored');
        assert.equal((await b.getSession(session.id))?.revokedAt, null);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('rate-limit counters are shared by every instance on the prefix', async () => {
      const prefix = testPrefix();
      const a = await open(prefix);
      const b = await open(prefix);
      try {
        const counts = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 === 0 ? a : b).counters.hit('ip:192.0.2.9', MINUTE, T0),
          ),
        );
        assert.deepEqual(
          counts.map((counter) => counter.count).sort((x, y) => x - y),
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        assert.deepEqual(await b.counters.peek('ip:192.0.2.9', T0), { count: 20, resetAt: T0 + MINUTE });
        await a.counters.clear('ip:192.0.2.9');
        assert.equal(await b.counters.peek('ip:192.0.2.9', T0), null);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('deployments with different prefixes on one Redis never see each other', async () => {
      const a = await open();
      const b = await open();
      try {
        const { user, session, token } = await seedSession(a);
        await b.createUser(user);
        assert.equal(await b.getSession(session.id), null);
        assert.equal(await b.findSessionByRefreshToken(token.hash), null);
        assert.equal((await b.rotateRefreshToken(rotation(token.hash, T0 + MINUTE))).kind, 'rejected');
        await a.revokeSession(session.id, 'logout', T0 + MINUTE);
        assert.deepEqual((await b.listRevocations(0, 0)).revoked, []);
        assert.deepEqual(await b.revokeUserSessions(user.id, 'logout_all', T0), []);
        await a.counters.hit('login:x', MINUTE, T0);
        assert.equal(await b.counters.peek('login:x', T0), null);
      } finally {
        await a.close();
        await b.close();
      }
    });

    test('a session created with an already-taken id is refused, leaving the first intact', async () => {
      const store = await open();
      try {
        const { user, session } = await seedSession(store);
        const clash = sessionRecord(user.id, { id: session.id, expiresAt: T0 + DAY });
        await assert.rejects(store.createSession(clash, tokenRecord(clash), user));
        assert.deepEqual(await store.getSession(session.id), session);
        assert.deepEqual(await store.listActiveSessions(user.id, T0), [session]);
      } finally {
        await store.close();
      }
    });
  });
}
