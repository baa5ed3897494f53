import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/index.ts';
import { RevocationList } from '../src/sessions/revocation-list.ts';

test('a revoked session is refused until its last access token plus the leeway, then forgotten', () => {
  const list = new RevocationList(30_000);
  list.add({ sessionId: 's1', userId: 'u', revokedAt: 0, accessExpiresAt: 900_000 });
  assert.equal(list.has('s1', 929_999), true, 'inside exp + leeway');
  assert.equal(list.has('s1', 930_000), false, 'nothing it covers can still verify');
  assert.equal(list.has('other', 0), false);
  assert.equal(list.prune(929_999), 1);
  assert.equal(list.prune(930_000), 0, 'pruned once expired: memory stays bounded');
});

test('a later revocation of the same session never shortens the window', () => {
  const list = new RevocationList(0);
  list.add({ sessionId: 's', userId: 'u', revokedAt: 0, accessExpiresAt: 2_000 });
  list.add({ sessionId: 's', userId: 'u', revokedAt: 0, accessExpiresAt: 1_000 });
  assert.equal(list.has('s', 1_500), true);
});

test("the store's revocation log forgets entries once their tokens have expired", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-log-'));
  const store = SqliteStore.open(join(dir, 't.db'));
  try {
    const now = 1_000_000;
    await store.createUser({
      id: 'u1',
      email: 'u1@example.test',
      name: null,
      passwordHash: 'h',
      role: 'user',
      createdAt: now,
      updatedAt: now,
      disabledAt: null,
      emailVerifiedAt: null,
    });
    for (const [id, accessExpiresAt] of [
      ['s1', now + 60_000],
      ['s2', now + 600_000],
    ] as const) {
      const session = {
        id,
        userId: 'u1',
        createdAt: now,
        lastUsedAt: now,
        expiresAt: now + 1e6,
        idleExpiresAt: now + 1e6,
      };
      assert.ok(
        await store.createSession(
          {
            ...session,
            accessExpiresAt,
            revokedAt: null,
            revokeReason: null,
            userAgent: null,
            ip: null,
            amr: ['pwd'],
            authTime: now,
          },
          null,
          { passwordHash: 'h', role: 'user' },
        ),
      );
    }
    assert.equal((await store.revokeUserSessions('u1', 'logout_all', now)).length, 2);
    assert.equal((await store.listRevocations(0, 0)).revoked.length, 2);
    // The cleanup job's batch: entries whose tokens expired strictly before the cutoff go.
    await store.purgeExpired(
      { sessions: 0, revocations: now + 60_001, counters: 0, audit: 0, oneTimeTokens: 0, mail: 0 },
      100,
    );
    const left = await store.listRevocations(0, 0);
    assert.deepEqual(
      left.revoked.map((entry) => entry.sessionId),
      ['s2'],
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
