import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PAGE_SIZE, type Store, type UserRecord } from '../../src/stores/store.ts';
import { MINUTE, SECOND, seedSession, T0, userRecord } from './fixtures.ts';

/**
 * The administration part of the store contract: user pages, role and status changes (with the
 * last-admin rule and the revocations of a disable),. `store()` is the fresh
 * store of the running test.
 */
export function adminContract(store: () => Store): void {
  describe('administration: users', () => {
    /** Users created one second apart, oldest first. */
    async function createUsers(emails: string[]): Promise<UserRecord[]> {
      const users = emails.map((email, i) => userRecord({ email, createdAt: T0 + i * SECOND }));
      for (const user of users) await store().createUser(user);
      return users;
    }

    test('listUsers pages newest first by cursor, to the end', async () => {
      const users = await createUsers(Array.from({ length: 5 }, (_, i) => `u${i}@example.test`));
      // Two users created in the same millisecond still page in a stable order (by id).
      const twin = userRecord({ createdAt: T0 + 4 * SECOND });
      await store().createUser(twin);
      const expected = [...users, twin]
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
        .map((user) => user.id);

      const seen: string[] = [];
      let after = null;
      for (let pages = 0; pages < 10; pages += 1) {
        const page: Awaited<ReturnType<Store['listUsers']>> = await store().listUsers({ limit: 2, after });
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((user) => user.id));
        if (page.next === null) break;
        after = page.next;
      }
      assert.deepEqual(seen, expected);
      const first = await store().listUsers({ limit: 1 });
      assert.deepEqual(
        first.items.map((user) => user.id),
        expected.slice(0, 1),
      );
      assert.deepEqual(first.next, { createdAt: twin.createdAt, id: expected[0] });
      assert.deepEqual(await store().listUsers({ limit: 10, after: { createdAt: T0, id: '' } }), {
        items: [],
        next: null,
      });
    });

    test('listUsers filters by email prefix, literally', async () => {
      const [, ada, adam] = await createUsers([
        'bob@example.test',
        'ada@example.test',
        'adam@example.test',
        'a_x@example.test',
      ]);
      const ad = await store().listUsers({ emailPrefix: 'ad', limit: 10 });
      assert.deepEqual(
        ad.items.map((user) => user.id),
        [adam!.id, ada!.id],
      );
      assert.equal(ad.next, null);
      // `_` and `%` are not wildcards.
      assert.deepEqual(
        (await store().listUsers({ emailPrefix: 'a_', limit: 10 })).items.map((user) => user.email),
        ['a_x@example.test'],
      );
      assert.deepEqual((await store().listUsers({ emailPrefix: '%', limit: 10 })).items, []);
      assert.equal((await store().listUsers({ emailPrefix: '', limit: 10 })).items.length, 4);
    });

    test(`a page never holds more than ${MAX_PAGE_SIZE} users`, async () => {
      await createUsers(Array.from({ length: MAX_PAGE_SIZE + 1 }, (_, i) => `many${i}@example.test`));
      const page = await store().listUsers({ limit: 10_000 });
      assert.equal(page.items.length, MAX_PAGE_SIZE);
      assert.notEqual(page.next, null);
      assert.equal((await store().listUsers({ limit: 0 })).items.length, 1);
    });

    test('updateUser sets the role; unknown users are not_found', async () => {
      const [user] = await createUsers(['role@example.test']);
      const outcome = await store().updateUser(user!.id, { role: 'admin' }, T0 + MINUTE);
      const updated = { ...user!, role: 'admin' as const, updatedAt: T0 + MINUTE };
      assert.deepEqual(outcome, { kind: 'updated', before: user, user: updated, revoked: [] });
      assert.deepEqual(await store().getUserById(user!.id), updated);
      assert.deepEqual(await store().updateUser('no-such-user', { role: 'admin' }, T0), {
        kind: 'not_found',
      });
    });

    test('disabling revokes every live session of the user, logged; enabling revokes nothing', async () => {
      const a = await seedSession(store());
      const b = await seedSession(store(), { user: a.user });
      const stranger = await seedSession(store());
      const now = T0 + MINUTE;
      const disabled = await store().updateUser(a.user.id, { disabled: true }, now);
      assert.equal(disabled.kind, 'updated');
      if (disabled.kind !== 'updated') return;
      assert.equal(disabled.user.disabledAt, now);
      assert.deepEqual(
        disabled.revoked.map((entry) => entry.sessionId).sort(),
        [a.session.id, b.session.id].sort(),
      );
      assert.equal((await store().getSession(a.session.id))?.revokeReason, 'user_disabled');
      assert.equal((await store().getSession(stranger.session.id))?.revokedAt, null);
      assert.deepEqual(
        (await store().listRevocations(0, 0)).revoked.map((entry) => entry.sessionId).sort(),
        [a.session.id, b.session.id].sort(),
      );
      // Disabled twice keeps the first time; a disabled user cannot log in.
      const again = await store().updateUser(a.user.id, { disabled: true }, now + MINUTE);
      assert.equal(again.kind === 'updated' && again.user.disabledAt, now);
      const refused = await store().createSession({ ...a.session, id: 'after-disable' }, null, a.user);
      assert.equal(refused, false);

      const enabled = await store().updateUser(a.user.id, { disabled: false }, now + 2 * MINUTE);
      assert.deepEqual(enabled.kind === 'updated' && [enabled.user.disabledAt, enabled.revoked], [null, []]);
      assert.equal((await store().getSession(a.session.id))?.revokedAt, now, 'sessions stay revoked');
    });

    test('the last enabled admin can be neither demoted nor disabled; another admin can', async () => {
      const [first, second] = await createUsers(['first@example.test', 'second@example.test']);
      await store().updateUser(first!.id, { role: 'admin' }, T0);
      for (const change of [{ role: 'user' as const }, { disabled: true }]) {
        assert.deepEqual(await store().updateUser(first!.id, change, T0), { kind: 'last_admin' });
      }
      assert.equal((await store().getUserById(first!.id))?.role, 'admin');
      // A disabled admin does not count.
      await store().updateUser(second!.id, { role: 'admin', disabled: true }, T0);
      assert.deepEqual(await store().updateUser(first!.id, { role: 'user' }, T0), { kind: 'last_admin' });
      await store().updateUser(second!.id, { disabled: false }, T0);
      const demoted = await store().updateUser(first!.id, { role: 'user' }, T0);
      assert.equal(demoted.kind === 'updated' && demoted.user.role, 'user');
      assert.deepEqual(await store().updateUser(second!.id, { disabled: true }, T0), { kind: 'last_admin' });
    });

    test('two admins demoting each other concurrently: one stays admin', async () => {
      const [a, b] = await createUsers(['a@example.test', 'b@example.test']);
      await store().updateUser(a!.id, { role: 'admin' }, T0);
      await store().updateUser(b!.id, { role: 'admin' }, T0);
      const outcomes = await Promise.all([
        store().updateUser(a!.id, { role: 'user' }, T0 + SECOND),
        store().updateUser(b!.id, { disabled: true }, T0 + SECOND),
      ]);
      assert.deepEqual(outcomes.map((outcome) => outcome.kind).sort(), ['last_admin', 'updated']);
      const admins = [await store().getUserById(a!.id), await store().getUserById(b!.id)].filter(
        (user) => user?.role === 'admin' && user.disabledAt === null,
      );
      assert.equal(admins.length, 1);
    });
  });
}
