import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEntry, AuditStore } from '../../src/stores/audit/audit-store.ts';
import { SECOND, T0 } from './fixtures.ts';

/** The audit log's part of the store contract; `audit()` is the part of the running test's store. */
export function auditContract(audit: () => AuditStore): void {
  describe('audit log', () => {
    const entry = (overrides: Partial<AuditEntry> = {}): AuditEntry => ({
      occurredAt: T0,
      actor: 'cli',
      action: 'role_changed',
      subject: 'user-1',
      ip: '192.0.2.1',
      userAgent: 'contract-test',
      detail: { from: 'user', to: 'admin', count: 2, flag: true, none: null },
      ...overrides,
    });

    test('entries read back newest first with increasing ids, by page and by subject', async () => {
      const appended = [
        entry(),
        entry({ actor: null, subject: null, ip: null, userAgent: null, action: 'login_failed', detail: {} }),
        entry({ subject: 'user-2', action: 'user_disabled', occurredAt: T0 + SECOND }),
        entry({ action: 'user_enabled', occurredAt: T0 + 2 * SECOND }),
      ];
      for (const item of appended) await audit().append(item);

      const first = await audit().list({ limit: 3 });
      assert.equal(first.items.length, 3);
      assert.notEqual(first.next, null);
      const rest = await audit().list({ limit: 3, after: first.next });
      assert.deepEqual(rest.next, null);
      const all = [...first.items, ...rest.items];
      assert.deepEqual(
        all.map(({ id: _id, ...fields }) => fields),
        [...appended].reverse(),
      );
      const ids = all.map((item) => item.id);
      assert.deepEqual(
        ids,
        [...ids].sort((x, y) => y - x),
      );
      assert.equal(new Set(ids).size, 4);

      const aboutOne = await audit().list({ subject: 'user-1', limit: 10 });
      assert.deepEqual(
        aboutOne.items.map((item) => item.action),
        ['user_enabled', 'role_changed'],
      );
      assert.deepEqual(await audit().list({ subject: 'nobody', limit: 10 }), { items: [], next: null });
    });
  });
}
