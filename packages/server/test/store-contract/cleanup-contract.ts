import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NOTHING_PURGED, type PurgeCounts, type PurgeCutoffs } from '../../src/stores/purge.ts';
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
    const CUTOFFS: PurgeCutoffs = {
      sessions: NOW,
      revocations: NOW,
      counters: NOW,
      audit: NOW - 30 * DAY,
      oneTimeTokens: NOW,
      mail: NOW - DAY,
    };

    /** Batches of `limit` until one deletes nothing; every batch within the limit of each kind. */
    async function purgeAll(limit: number, cutoffs = CUTOFFS): Promise<PurgeCounts> {
      const total = { ...NOTHING_PURGED };
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

    test('dead sessions go with every token, in bounded batches; live ones keep their spent tokens', async () => {
      // A session in use for ten days: its first token was spent and has expired since, its second
      // was spent an hour ago, its third is the live one.
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
      // Refreshed four times on its first day, then never again: five tokens, all expired.
      const busy = await seedSession(store(), { user: live.user });
      let presented = busy.token.hash;
      for (let hour = 1; hour <= 4; hour += 1) {
        const next = rotation(presented, T0 + hour * 60 * MINUTE);
        assert.equal((await store().rotateRefreshToken(next)).kind, 'rotated');
        presented = next.successor.hash;
      }
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
        // Redis drops each session and token by its keys' TTL (a spent token's lasts as long as
        // its session's); the sweep has only the SQL side's audit log and the revocation log.
        assert.deepEqual([purged.sessions, purged.refreshTokens], [0, 0]);
      } else {
        assert.equal(purged.sessions, 5, 'four expired sessions and one long-revoked');
        // Counted one by one: the tokens went in batches before their sessions, none by cascade.
        assert.equal(purged.refreshTokens, 3 + 5 + 1, 'every token of the dead sessions');
        for (const gone of [...expired, busy, revokedLongAgo]) {
          assert.equal(await store().getSession(gone.session.id), null);
          assert.equal(await store().findSessionByRefreshToken(gone.token.hash), null, 'its tokens too');
        }
        assert.equal(await store().findSessionByRefreshToken(presented), null, 'its last token too');
      }
      assert.ok(await store().getSession(revokedJustNow.session.id));
      assert.ok(await store().getSession(live.session.id));
      assert.ok(await store().findSessionByRefreshToken(third.successor.hash), 'the live token');
      assert.ok(await store().findSessionByRefreshToken(second.successor.hash), 'spent an hour ago');
      assert.deepEqual(
        await store().findSessionByRefreshToken(live.token.hash),
        await store().getSession(live.session.id),
        'spent and expired, kept with its session',
      );
      assert.deepEqual(await purgeAll(2), NOTHING_PURGED);

      // The first token, spent and past its own expiry: a thief refreshing the family could be
      // holding the session, so presenting it still ends the session (SPEC §3 reuse).
      const replay = await store().rotateRefreshToken(rotation(live.token.hash, NOW));
      assert.equal(replay.kind, 'reused');
    });

    test('revocation-log entries go once their access tokens are past exp + leeway', async () => {
      const short = await seedSession(store(), { session: { accessExpiresAt: T0 + MINUTE } });
      const long = await seedSession(store(), { session: { accessExpiresAt: T0 + 10 * MINUTE } });
      await store().revokeUserSessions(short.user.id, 'logout_all', T0);
      await store().revokeUserSessions(long.user.id, 'logout_all', T0);
      // The job's cutoff is `now - leeway`: an entry stays while its token could still be accepted.
      const cutoffs = { ...CUTOFFS, sessions: T0, revocations: T0 + MINUTE + 1 };
      assert.equal((await purgeAll(1, cutoffs)).revocations, 1);
      assert.deepEqual(
        (await store().listRevocations(0, 0)).revoked.map((entry) => entry.sessionId),
        [long.session.id],
      );
    });

    test('audit entries older than the retention go; newer ones stay', async () => {
      for (const occurredAt of [T0, T0 + DAY, NOW - DAY, NOW]) {
        await store().audit.append({
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
      const left = await store().audit.list({ limit: 10 });
      assert.deepEqual(
        left.items.map((entry) => entry.occurredAt),
        [NOW, NOW - DAY],
      );
    });

    test('rate-limit windows that ended are forgotten; a running one keeps counting', async () => {
      await store().counters.hit('ended', MINUTE, NOW - 2 * MINUTE);
      await store().counters.hit('running', MINUTE, NOW - 10_000);
      await purgeAll(1);
      assert.equal((await store().counters.hit('running', MINUTE, NOW)).count, 2);
      assert.equal((await store().counters.hit('ended', MINUTE, NOW)).count, 1);
    });
  });
}
