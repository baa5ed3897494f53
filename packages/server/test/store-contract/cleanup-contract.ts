import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PurgeCounts, PurgeCutoffs } from '../../src/stores/purge.ts';
import type { Store } from '../../src/stores/store.ts';
import { DAY, MINUTE, rotation, seedSession, T0 } from './fixtures.ts';

/**
 * The cleanup part of the store contract (issue 12 §2): `purgeExpired` deletes exactly what
 * nothing can use any more, in batches of at most `limit` of each kind, and keeps everything
 * else. `store()` is the fresh store of the running test.
 */
export function cleanupContract(store: () => Store, sessionsExpireByTtl: () => boolean): void {
  describe('cleanup (purgeExpired)', () => {
    const NOW = T0 + 40 * DAY;
    const cutoffs: PurgeCutoffs = { sessions: NOW, refreshTokens: NOW, counters: NOW, audit: NOW - 30 * DAY };

    /** Batches of `limit` until one deletes nothing; every batch within the limit. */
    async function purgeAll(limit: number): Promise<PurgeCounts> {
      const total = { sessions: 0, refreshTokens: 0, counters: 0, audit: 0 };
      for (let round = 0; round < 50; round += 1) {
        const batch = await store().purgeExpired(cutoffs, limit);
        assert.ok(batch, 'no other instance holds the lock');
        for (const kind of Object.keys(total) as (keyof PurgeCounts)[]) {
          assert.ok(batch[kind] <= limit, `${kind}: ${batch[kind]} > ${limit}`);
          total[kind] += batch[kind];
        }
        if (Object.values(batch).every((count) => count === 0)) return total;
      }
      throw new Error('purgeExpired never ran out of rows');
    }

    test('dead sessions and expired tokens go, in bounded batches; live ones and their spent tokens stay', async () => {
      // A session in use for ten days: its first token was spent and has expired since, its second
      // was spent an hour ago and could still be replayed (reuse must stay detectable), its third
      // is the live one.
      const live = await seedSession(store(), {
        session: { createdAt: NOW - 10 * DAY, expiresAt: NOW + 20 * DAY, idleExpiresAt: NOW - 3 * DAY },
      });
      const second = rotation(live.token.hash, NOW - 4 * DAY);
      assert.equal((await store().rotateRefreshToken(second)).kind, 'rotated');
      const third = rotation(second.successor.hash, NOW - 60 * MINUTE);
      assert.equal((await store().rotateRefreshToken(third)).kind, 'rotated');
      const expired = await Promise.all(
        [1, 2, 3].map(() => seedSession(store(), { user: live.user })), // idle-expired at T0 + 7 days
      );
      /** A session of `live`'s user that would run for weeks yet, revoked at `revokedAt`. */
      const revoked = async (accessExpiresAt: number, revokedAt: number) => {
        const seeded = await seedSession(store(), {
          user: live.user,
          session: { expiresAt: NOW + 20 * DAY, idleExpiresAt: NOW + 5 * DAY, accessExpiresAt },
        });
        await store().revokeSession(seeded.session.id, 'logout', revokedAt);
        return seeded;
      };
      const revokedLongAgo = await revoked(T0 + 15 * MINUTE, T0 + MINUTE);
      // Revoked a moment ago: its last access token is still within its lifetime, so it stays.
      const revokedJustNow = await revoked(NOW + 10 * MINUTE, NOW - MINUTE);

      const purged = await purgeAll(2);
      if (sessionsExpireByTtl()) {
        // Redis drops each session and token at its own expiry (their keys' TTL); the sweep only
        // has the SQL side's audit log to do.
        assert.deepEqual([purged.sessions, purged.refreshTokens], [0, 0]);
        assert.ok(await store().getSession(live.session.id));
        return;
      }
      assert.equal(purged.sessions, 4, 'three expired and one long-revoked session');

      assert.ok(await store().getSession(live.session.id));
      assert.ok(await store().getSession(revokedJustNow.session.id));
      for (const gone of [...expired, revokedLongAgo]) {
        assert.equal(await store().getSession(gone.session.id), null);
        assert.equal(
          await store().findSessionByRefreshToken(gone.token.hash),
          null,
          'its tokens went with it',
        );
      }
      assert.equal(await store().findSessionByRefreshToken(live.token.hash), null, 'spent and expired');
      assert.ok(await store().findSessionByRefreshToken(second.successor.hash), 'spent, within its lifetime');
      assert.ok(await store().findSessionByRefreshToken(third.successor.hash), 'the live token');
      assert.deepEqual(await purgeAll(2), { sessions: 0, refreshTokens: 0, counters: 0, audit: 0 });
    });

    test('audit entries older than the retention go; newer ones stay', async () => {
      for (const occurredAt of [T0, T0 + DAY, NOW - DAY, NOW]) {
        await store().appendAudit({
          occurredAt,
          actor: 'system',
          action: 'key_rotated',
          subject: null,
          ip: null,
          userAgent: null,
          detail: {},
        });
      }
      assert.equal((await purgeAll(1)).audit, 2);
      const left = await store().listAudit({ limit: 10 });
      assert.deepEqual(
        left.items.map((entry) => entry.occurredAt),
        [NOW, NOW - DAY],
      );
    });

    test('rate-limit windows that ended are forgotten; a running one keeps counting', async () => {
      await store().hitCounter('ended', MINUTE, NOW - 2 * MINUTE);
      await store().hitCounter('running', MINUTE, NOW - 10_000);
      await purgeAll(1);
      assert.equal((await store().hitCounter('running', MINUTE, NOW)).count, 2);
      assert.equal((await store().hitCounter('ended', MINUTE, NOW)).count, 1);
    });
  });
}
