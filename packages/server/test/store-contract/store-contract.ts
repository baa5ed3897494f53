import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmailTakenError } from '@tessera/protocol';
import type { RotationOutcome, Store } from '../../src/stores/store.ts';
import { adminContract } from './admin-contract.ts';
import { auditContract } from './audit-contract.ts';
import { cleanupContract } from './cleanup-contract.ts';
import { countersContract } from './counters-contract.ts';
import { keysContract } from './keys-contract.ts';
import { mfaContract } from './mfa-contract.ts';
import { outboxContract } from './outbox-contract.ts';
import { recoveryContract } from './recovery-contract.ts';
import {
  MINUTE,
  POLICY,
  randomHash,
  rotation,
  SECOND,
  seedSession,
  sessionRecord,
  T0,
  tokenRecord,
  userRecord,
} from './fixtures.ts';

/** An empty, migrated store, and how to dispose of it. */
export interface OpenedStore {
  store: Store;
  /** Sessions and refresh tokens carry a TTL and vanish by themselves (Redis): nothing to purge. */
  sessionsExpireByTtl?: boolean;
  close(): Promise<void>;
}

/**
 * The contract every `Store` implementation must meet (STYLE habit 6), written once against the
 * interface and run unchanged by one test file per backend. Each test gets a fresh, empty store
 * from `open`. Concurrency tests issue their calls together: on SQLite they serialise in-process,
 * on PostgreSQL they race over several pooled connections.
 */
export function storeContract(backend: string, open: () => Promise<OpenedStore>): void {
  describe(`Store contract: ${backend}`, () => {
    let opened: OpenedStore;
    let store: Store;
    beforeEach(async () => {
      opened = await open();
      store = opened.store;
    });
    afterEach(() => opened.close());

    test('ping answers', async () => {
      await store.ping();
    });

    describe('users', () => {
      test('a created user reads back by id and by email; unknown ones are null', async () => {
        const user = userRecord({ name: 'Ada', role: 'admin' });
        await store.createUser(user);
        assert.deepEqual(await store.getUserById(user.id), user);
        assert.deepEqual(await store.getUserByEmail(user.email), user);
        assert.equal(await store.getUserById('nobody'), null);
        assert.equal(await store.getUserByEmail('nobody@example.test'), null);
      });

      test('a taken email rejects with email_taken and changes nothing', async () => {
        const first = userRecord();
        await store.createUser(first);
        await assert.rejects(
          store.createUser(userRecord({ email: first.email })),
          (error) => error instanceof EmailTakenError && error.code === 'email_taken',
        );
        assert.deepEqual(await store.getUserByEmail(first.email), first);
      });
    });

    describe('sessions', () => {
      test('createSession stores the session and its first refresh token', async () => {
        const { session, token } = await seedSession(store);
        assert.deepEqual(await store.getSession(session.id), session);
        assert.deepEqual(await store.findSessionByRefreshToken(token.hash), session);
        assert.equal(await store.findSessionByRefreshToken(randomHash()), null);
        assert.equal(await store.getSession('no-such-session'), null);
      });

      test('createSession without a refresh token ("keep me logged in" off)', async () => {
        const user = userRecord();
        await store.createUser(user);
        const session = sessionRecord(user.id, {
          expiresAt: T0 + 15 * MINUTE,
          idleExpiresAt: T0 + 15 * MINUTE,
        });
        assert.equal(await store.createSession(session, null, user), true);
        assert.deepEqual(await store.getSession(session.id), session);
      });

      test('createSession is refused, writing nothing, unless the hash and role login read are current and the user enabled', async () => {
        const user = userRecord();
        const disabled = userRecord({ disabledAt: T0 });
        await store.createUser(user);
        await store.createUser(disabled);
        const cases = [
          { userId: user.id, passwordHash: 'a-hash-that-was-replaced', role: user.role },
          { userId: disabled.id, passwordHash: disabled.passwordHash, role: disabled.role },
          { userId: 'no-such-user', passwordHash: user.passwordHash, role: user.role },
          // A login that read the role before a promotion or demotion: its token would carry the
          // old role for a whole access lifetime (issue 12 §4).
          { userId: user.id, passwordHash: user.passwordHash, role: 'admin' as const },
        ];
        for (const { userId, ...verified } of cases) {
          const session = sessionRecord(userId);
          const token = tokenRecord(session);
          assert.equal(
            await store.createSession(session, token, verified),
            false,
            `${userId} ${verified.role}`,
          );
          assert.equal(await store.getSession(session.id), null);
          assert.equal(await store.findSessionByRefreshToken(token.hash), null);
        }
      });

      test('a login that read the user before a demotion gets no session with the old role', async () => {
        // Issue 12 §4, as it happens: login reads an admin, an admin demotes them while the
        // password hashes, then login creates the session from what it read.
        const admin = userRecord({ role: 'admin' });
        await store.createUser(admin);
        await store.createUser(userRecord({ role: 'admin' })); // so the demotion is allowed
        const read = await store.getUserById(admin.id);
        assert.ok(read);
        const demoted = await store.updateUser(admin.id, { role: 'user' }, T0 + SECOND);
        assert.equal(demoted.kind, 'updated');
        const stale = sessionRecord(admin.id);
        assert.equal(await store.createSession(stale, tokenRecord(stale), read), false);
        assert.equal(await store.getSession(stale.id), null);
        // With the role read again, the login goes through with the current role.
        const current = await store.getUserById(admin.id);
        assert.ok(current);
        assert.equal(current.role, 'user');
        const fresh = sessionRecord(admin.id);
        assert.equal(await store.createSession(fresh, tokenRecord(fresh), current), true);
      });

      test('listActiveSessions: live sessions of the user only, newest first', async () => {
        const { user, session: oldest } = await seedSession(store);
        const newest = await seedSession(store, { user, session: { createdAt: T0 + 2 * MINUTE } });
        const middle = await seedSession(store, { user, session: { createdAt: T0 + MINUTE } });
        const revoked = await seedSession(store, { user });
        await store.revokeSession(revoked.session.id, 'logout', T0);
        await seedSession(store, { user, session: { expiresAt: T0 + 30 * SECOND } });
        await seedSession(store, { user, session: { idleExpiresAt: T0 + 30 * SECOND } });
        await seedSession(store); // another user's

        const listed = await store.listActiveSessions(user.id, T0 + MINUTE);
        assert.deepEqual(
          listed.map((session) => session.id),
          [newest.session.id, middle.session.id, oldest.id],
        );
        assert.deepEqual(listed[2], oldest);
        assert.deepEqual(await store.listActiveSessions('no-such-user', T0), []);
      });
    });

    describe('changePassword (compare-and-set)', () => {
      test('sets the new hash and revokes every other session of the user, logging them', async () => {
        const { user, session: keep } = await seedSession(store);
        const other = await seedSession(store, { user });
        const stranger = await seedSession(store);
        const now = T0 + MINUTE;
        const outcome = await store.changePassword(
          { userId: user.id, currentHash: user.passwordHash, newHash: 'new-hash', keepSessionId: keep.id },
          now,
        );
        assert.deepEqual(outcome, {
          kind: 'changed',
          revoked: [
            {
              sessionId: other.session.id,
              userId: user.id,
              revokedAt: now,
              accessExpiresAt: other.session.accessExpiresAt,
            },
          ],
        });
        const updated = await store.getUserById(user.id);
        assert.equal(updated?.passwordHash, 'new-hash');
        assert.equal(updated?.updatedAt, now);
        assert.equal((await store.getSession(keep.id))?.revokedAt, null);
        assert.equal((await store.getSession(other.session.id))?.revokeReason, 'password_changed');
        assert.equal((await store.getSession(stranger.session.id))?.revokedAt, null);
        const log = await store.listRevocations(0, 0);
        assert.deepEqual(log.revoked, outcome.kind === 'changed' ? outcome.revoked : []);
      });

      test('stale, changing nothing, when the hash changed, the session was revoked or is not the user’s', async () => {
        const { user, session: keep } = await seedSession(store);
        const other = await seedSession(store, { user });
        const stranger = await seedSession(store);
        const revoked = await seedSession(store, { user });
        await store.revokeSession(revoked.session.id, 'logout', T0);
        const attempts = [
          { currentHash: 'not-the-stored-hash', keepSessionId: keep.id },
          { currentHash: user.passwordHash, keepSessionId: revoked.session.id },
          { currentHash: user.passwordHash, keepSessionId: stranger.session.id },
          { currentHash: user.passwordHash, keepSessionId: 'no-such-session' },
        ];
        for (const attempt of attempts) {
          const outcome = await store.changePassword(
            { userId: user.id, newHash: 'new-hash', ...attempt },
            T0 + MINUTE,
          );
          assert.deepEqual(outcome, { kind: 'stale' }, attempt.keepSessionId);
        }
        assert.deepEqual(await store.getUserById(user.id), user);
        assert.equal((await store.getSession(other.session.id))?.revokedAt, null);
        assert.equal((await store.listRevocations(0, 0)).revoked.length, 1, 'only the logout');
      });

      test('of concurrent changes from the same verified hash, exactly one wins', async () => {
        const { user, session } = await seedSession(store);
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.changePassword(
              {
                userId: user.id,
                currentHash: user.passwordHash,
                newHash: `new-${i}`,
                keepSessionId: session.id,
              },
              T0 + MINUTE,
            ),
          ),
        );
        const winners = outcomes.flatMap((outcome, i) => (outcome.kind === 'changed' ? [i] : []));
        assert.equal(winners.length, 1, JSON.stringify(outcomes));
        assert.equal((await store.getUserById(user.id))?.passwordHash, `new-${winners[0]}`);
      });
    });

    describe('rotateRefreshToken', () => {
      test('rotate: consumes the token, stores the successor, renews the idle end, records the access exp', async () => {
        const { session, token } = await seedSession(store);
        const now = T0 + MINUTE;
        const request = rotation(token.hash, now);
        const outcome = expectKind(await store.rotateRefreshToken(request), 'rotated');

        assert.deepEqual(
          request.seen,
          [{ token, session, successor: null }],
          'the policy saw the stored state',
        );
        const successorExpiresAt = now + POLICY.refreshTtlMs;
        assert.deepEqual(outcome.token, {
          hash: request.successor.hash,
          sessionId: session.id,
          parentHash: token.hash,
          createdAt: now,
          expiresAt: successorExpiresAt,
          consumedAt: null,
          successorHash: null,
          successorSealed: null,
        });
        const expected = {
          ...session,
          lastUsedAt: now,
          idleExpiresAt: successorExpiresAt,
          accessExpiresAt: request.accessExpiresAt,
        };
        assert.deepEqual(outcome.session, expected);
        assert.deepEqual(await store.getSession(session.id), expected);
        assert.deepEqual(await store.findSessionByRefreshToken(request.successor.hash), expected);

        // The presented token is now consumed and points at its successor.
        const retry = rotation(token.hash, now + SECOND);
        await store.rotateRefreshToken(retry);
        assert.deepEqual(retry.seen[0]?.token, {
          ...token,
          consumedAt: now,
          successorHash: request.successor.hash,
          successorSealed: request.successor.sealedForPresented,
        });
        assert.deepEqual(retry.seen[0]?.successor, outcome.token);
      });

      test('grace: the predecessor within the window gets the current token back; nothing new is stored', async () => {
        const { session, token } = await seedSession(store);
        const first = rotation(token.hash, T0 + MINUTE);
        const rotated = expectKind(await store.rotateRefreshToken(first), 'rotated');
        const retry = rotation(token.hash, T0 + MINUTE + 5 * SECOND, { accessExpiresAt: T0 + 20 * MINUTE });
        const grace = expectKind(await store.rotateRefreshToken(retry), 'grace');

        assert.deepEqual(grace.current, rotated.token);
        assert.equal(grace.sealedCurrent, first.successor.sealedForPresented);
        assert.equal(grace.session.lastUsedAt, T0 + MINUTE + 5 * SECOND);
        assert.equal(grace.session.accessExpiresAt, T0 + 20 * MINUTE);
        assert.equal(await store.findSessionByRefreshToken(retry.successor.hash), null);

        // An access token issued earlier never lowers the recorded latest exp.
        const late = rotation(token.hash, T0 + MINUTE + 6 * SECOND, { accessExpiresAt: T0 + 2 * MINUTE });
        const again = expectKind(await store.rotateRefreshToken(late), 'grace');
        assert.equal(again.session.accessExpiresAt, T0 + 20 * MINUTE);
        assert.equal((await store.getSession(session.id))?.revokedAt, null);
      });

      test('reuse: a spent token after the grace window revokes the session and logs it', async () => {
        const { session, token } = await seedSession(store);
        const first = rotation(token.hash, T0 + MINUTE);
        expectKind(await store.rotateRefreshToken(first), 'rotated');
        const now = T0 + MINUTE + 11 * SECOND;
        const reused = expectKind(await store.rotateRefreshToken(rotation(token.hash, now)), 'reused');

        const revoked = {
          sessionId: session.id,
          userId: session.userId,
          revokedAt: now,
          accessExpiresAt: first.accessExpiresAt,
        };
        assert.deepEqual(reused.revoked, revoked);
        const stored = await store.getSession(session.id);
        assert.equal(stored?.revokedAt, now);
        assert.equal(stored?.revokeReason, 'reuse_detected');
        assert.deepEqual((await store.listRevocations(0, 0)).revoked, [revoked]);
        // The whole family is dead: the live successor no longer rotates.
        const successor = await store.rotateRefreshToken(rotation(first.successor.hash, now + SECOND));
        assert.deepEqual(successor, { kind: 'rejected', code: 'invalid_grant', reason: 'session revoked' });
      });

      test('reuse of an older token of the family, even within the grace window', async () => {
        const { session, token } = await seedSession(store);
        const first = rotation(token.hash, T0 + MINUTE);
        expectKind(await store.rotateRefreshToken(first), 'rotated');
        expectKind(
          await store.rotateRefreshToken(rotation(first.successor.hash, T0 + MINUTE + SECOND)),
          'rotated',
        );
        expectKind(await store.rotateRefreshToken(rotation(token.hash, T0 + MINUTE + 2 * SECOND)), 'reused');
        assert.equal((await store.getSession(session.id))?.revokeReason, 'reuse_detected');
      });

      test('early refresh under the revoke policy is treated as theft', async () => {
        const { session, token } = await seedSession(store);
        const request = rotation(token.hash, T0 + MINUTE, { policy: { ...POLICY, earlyRefresh: 'revoke' } });
        const outcome = expectKind(await store.rotateRefreshToken(request), 'reused');
        assert.equal(outcome.revoked.sessionId, session.id);
        assert.equal((await store.getSession(session.id))?.revokeReason, 'early_refresh');
      });

      test('reject: unknown token, expired session, revoked session; nothing changes', async () => {
        const unknown = rotation(randomHash(), T0);
        assert.deepEqual(await store.rotateRefreshToken(unknown), {
          kind: 'rejected',
          code: 'invalid_grant',
          reason: 'unknown refresh token',
        });
        assert.deepEqual(unknown.seen, [null]);

        const { session, token } = await seedSession(store);
        const late = await store.rotateRefreshToken(rotation(token.hash, session.expiresAt));
        assert.deepEqual(late, {
          kind: 'rejected',
          code: 'session_expired',
          reason: 'absolute lifetime over',
        });
        const idle = await store.rotateRefreshToken(rotation(token.hash, token.expiresAt));
        assert.deepEqual(idle, { kind: 'rejected', code: 'session_expired', reason: 'idle lifetime over' });
        assert.deepEqual(await store.getSession(session.id), session, 'a refusal writes nothing');
        expectKind(await store.rotateRefreshToken(rotation(token.hash, T0 + MINUTE)), 'rotated');

        const revoked = await seedSession(store);
        await store.revokeSession(revoked.session.id, 'logout', T0);
        const refused = await store.rotateRefreshToken(rotation(revoked.token.hash, T0 + MINUTE));
        assert.deepEqual(refused, { kind: 'rejected', code: 'invalid_grant', reason: 'session revoked' });
      });

      test('20 concurrent rotations of one token: one successor, the others get it through grace', async () => {
        const { session, token } = await seedSession(store);
        const requests = Array.from({ length: 20 }, () => rotation(token.hash, T0 + MINUTE));
        const outcomes = await Promise.all(requests.map((request) => store.rotateRefreshToken(request)));

        const rotated = outcomes.filter((outcome) => outcome.kind === 'rotated');
        const graced = outcomes.filter((outcome) => outcome.kind === 'grace');
        assert.equal(rotated.length, 1, JSON.stringify(outcomes.map((outcome) => outcome.kind)));
        assert.equal(graced.length, 19);
        for (const outcome of graced) assert.equal(outcome.current.hash, rotated[0]?.token.hash);
        const live = [];
        for (const request of requests) {
          if ((await store.findSessionByRefreshToken(request.successor.hash)) !== null) live.push(request);
        }
        assert.equal(live.length, 1, 'exactly one successor stored');
        assert.equal((await store.getSession(session.id))?.revokedAt, null);
      });

      test('20 concurrent rotations without a grace window: one successor, then reuse revokes the session', async () => {
        const { session, token } = await seedSession(store);
        const policy = { ...POLICY, graceMs: 0 };
        const requests = Array.from({ length: 20 }, () => rotation(token.hash, T0 + MINUTE, { policy }));
        const outcomes = await Promise.all(requests.map((request) => store.rotateRefreshToken(request)));

        // The first rotates, the next is reuse and revokes the session, the rest find it revoked.
        const kinds = outcomes.map((outcome) => outcome.kind);
        assert.equal(kinds.filter((kind) => kind === 'rotated').length, 1, kinds.join());
        assert.equal(kinds.filter((kind) => kind === 'reused').length, 1, kinds.join());
        assert.equal(kinds.filter((kind) => kind === 'rejected').length, 18, kinds.join());
        assert.equal((await store.getSession(session.id))?.revokeReason, 'reuse_detected');
        const log = await store.listRevocations(0, 0);
        assert.deepEqual(
          log.revoked.map((entry) => entry.sessionId),
          [session.id],
          'revoked and logged once',
        );
      });
    });

    describe('revocation', () => {
      test('revokeSession: the entry once, then null; unknown sessions null', async () => {
        const { session } = await seedSession(store);
        const now = T0 + MINUTE;
        assert.deepEqual(await store.revokeSession(session.id, 'logout', now), {
          sessionId: session.id,
          userId: session.userId,
          revokedAt: now,
          accessExpiresAt: session.accessExpiresAt,
        });
        assert.equal(await store.revokeSession(session.id, 'session_deleted', now + SECOND), null);
        assert.equal(await store.revokeSession('no-such-session', 'logout', now), null);
        const stored = await store.getSession(session.id);
        assert.equal(stored?.revokedAt, now);
        assert.equal(stored?.revokeReason, 'logout');
      });

      test('revokeUserSessions: every live session of that user, and only those', async () => {
        const a = await seedSession(store);
        const b = await seedSession(store, { user: a.user });
        const gone = await seedSession(store, { user: a.user });
        await store.revokeSession(gone.session.id, 'logout', T0);
        const stranger = await seedSession(store);

        const revoked = await store.revokeUserSessions(a.user.id, 'logout_all', T0 + MINUTE);
        assert.deepEqual(revoked.map((entry) => entry.sessionId).sort(), [a.session.id, b.session.id].sort());
        assert.equal((await store.getSession(gone.session.id))?.revokeReason, 'logout');
        assert.equal((await store.getSession(stranger.session.id))?.revokedAt, null);
        assert.deepEqual(await store.revokeUserSessions(a.user.id, 'logout_all', T0 + MINUTE), []);
      });

      test('listRevocations pages by cursor in commit order and skips entries whose tokens expired', async () => {
        const seeded = [];
        for (let i = 0; i < 5; i += 1) {
          seeded.push(await seedSession(store, { session: { accessExpiresAt: T0 + (i + 1) * MINUTE } }));
        }
        for (const [i, { session }] of seeded.entries())
          await store.revokeSession(session.id, 'logout', T0 + i);

        const all = await store.listRevocations(0, 0);
        assert.deepEqual(
          all.revoked.map((entry) => entry.sessionId),
          seeded.map(({ session }) => session.id),
        );
        assert.ok(all.cursor > 0);
        assert.deepEqual(await store.listRevocations(0, all.cursor), { cursor: all.cursor, revoked: [] });

        // Entries whose access tokens all expired are left out, but the cursor moves past them.
        const filtered = await store.listRevocations(T0 + 3 * MINUTE, 0);
        assert.deepEqual(
          filtered.revoked.map((entry) => entry.sessionId),
          seeded.slice(3).map(({ session }) => session.id),
        );
        assert.equal(filtered.cursor, all.cursor);

        const late = await seedSession(store);
        await store.revokeSession(late.session.id, 'logout', T0 + MINUTE);
        const next = await store.listRevocations(0, all.cursor);
        assert.deepEqual(
          next.revoked.map((entry) => entry.sessionId),
          [late.session.id],
        );
        assert.ok(next.cursor > all.cursor);
      });
    });

    keysContract(() => store.keys);
    countersContract(() => store.counters);
    auditContract(() => store.audit);
    adminContract(() => store);
    recoveryContract(() => store);
    outboxContract(() => store);
    mfaContract(() => store);
    cleanupContract(
      () => store,
      () => opened.sessionsExpireByTtl === true,
    );
  });
}

function expectKind<K extends RotationOutcome['kind']>(
  outcome: RotationOutcome,
  kind: K,
): Extract<RotationOutcome, { kind: K }> {
  assert.equal(outcome.kind, kind, JSON.stringify(outcome));
  return outcome as Extract<RotationOutcome, { kind: K }>;
}
