import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { OutboxMessage } from '../../src/stores/outbox/outbox-store.ts';
import type { Store } from '../../src/stores/store.ts';
import { DAY, mailFor, MINUTE, resetToken, SECOND, seedSession, T0 } from './fixtures.ts';

/**
 * The mail outbox's part of the store contract. Messages are queued as a request queues them,
 * with a token (`recovery.issueToken`), so `store()` is the whole store of the running test.
 */
export function outboxContract(store: () => Store): void {
  describe('mail outbox', () => {
    const queue = async (count: number): Promise<OutboxMessage[]> => {
      const { user } = await seedSession(store());
      const messages: OutboxMessage[] = [];
      for (let i = 0; i < count; i += 1) {
        // Every other one carries a link that dies (its `expiresAt` reads back as queued).
        const message = mailFor(user, {
          createdAt: T0 + i,
          expiresAt: i % 2 === 0 ? T0 + 30 * MINUTE : null,
        });
        await store().recovery.issueToken(resetToken(user), message);
        messages.push(message);
      }
      return messages;
    };

    test('a claim is a lease: nobody else gets the message until it ends; each claim is an attempt', async () => {
      const [message] = await queue(1);
      const [claimed] = await store().outbox.claimDue(T0 + SECOND, T0 + MINUTE, 10);
      assert.deepEqual(
        { ...claimed, lastError: claimed?.lastError },
        { ...message!, state: 'queued', attempts: 1, nextAttemptAt: message!.createdAt, lastError: null },
      );
      assert.deepEqual(await store().outbox.claimDue(T0 + 30 * SECOND, T0 + 2 * MINUTE, 10), []);
      const [reclaimed] = await store().outbox.claimDue(T0 + MINUTE, T0 + 2 * MINUTE, 10);
      assert.equal(reclaimed?.id, message!.id);
      assert.equal(reclaimed?.attempts, 2);
    });

    test('a lease is renewed while queued, never shortened; a settled message is not renewed', async () => {
      const [message] = await queue(1);
      await store().outbox.claimDue(T0 + SECOND, T0 + MINUTE, 10);
      assert.equal(await store().outbox.renewLease(message!.id, T0 + 3 * MINUTE), true);
      assert.equal(await store().outbox.renewLease(message!.id, T0 + 2 * MINUTE), false, 'not shortened');
      assert.deepEqual(await store().outbox.claimDue(T0 + 2 * MINUTE, T0 + 4 * MINUTE, 10), []);
      assert.equal((await store().outbox.claimDue(T0 + 3 * MINUTE, T0 + 4 * MINUTE, 10)).length, 1);
      await store().outbox.settle(message!.id, { kind: 'sent' }, T0 + 3 * MINUTE);
      assert.equal(await store().outbox.renewLease(message!.id, T0 + 9 * MINUTE), false);
    });

    test('sent and given-up messages are final; a retry waits for its time', async () => {
      const [sent, failed, retried] = await queue(3);
      await store().outbox.claimDue(T0 + SECOND, T0 + MINUTE, 10);
      await store().outbox.settle(sent!.id, { kind: 'sent' }, T0 + SECOND);
      await store().outbox.settle(failed!.id, { kind: 'given_up', error: 'EENVELOPE 550' }, T0 + SECOND);
      await store().outbox.settle(
        retried!.id,
        { kind: 'retry', nextAttemptAt: T0 + 10 * SECOND, error: 'ECONNECTION' },
        T0 + SECOND,
      );
      assert.deepEqual(await store().outbox.claimDue(T0 + 5 * SECOND, T0 + MINUTE, 10), []);
      const due = await store().outbox.claimDue(T0 + 10 * SECOND, T0 + MINUTE, 10);
      assert.deepEqual(
        due.map((message) => [message.id, message.attempts, message.lastError]),
        [[retried!.id, 2, 'ECONNECTION']],
      );
      await store().outbox.settle(retried!.id, { kind: 'sent' }, T0 + 10 * SECOND);
      assert.deepEqual(await store().outbox.claimDue(T0 + 10 * MINUTE, T0 + 11 * MINUTE, 10), []);
    });

    test('the cleanup deletes expired tokens and settled mail, never queued mail', async () => {
      const [sent, queued] = await queue(2);
      await store().outbox.claimDue(T0 + SECOND, T0 + MINUTE, 10);
      await store().outbox.settle(sent!.id, { kind: 'sent' }, T0 + SECOND);
      const later = T0 + DAY;
      const cutoffs = {
        sessions: 0,
        revocations: 0,
        counters: 0,
        audit: 0,
        oneTimeTokens: later,
        mail: later,
      };
      let deleted = { oneTimeTokens: 0, mail: 0 };
      for (let round = 0; round < 5; round += 1) {
        const batch = await store().purgeExpired(cutoffs, 1);
        if (batch === null) continue;
        deleted = {
          oneTimeTokens: deleted.oneTimeTokens + batch.oneTimeTokens,
          mail: deleted.mail + batch.mail,
        };
      }
      assert.deepEqual(deleted, { oneTimeTokens: 2, mail: 1 });
      const [left] = await store().outbox.claimDue(later, later + MINUTE, 10);
      assert.equal(left?.id, queued!.id, 'the undelivered message stays');
    });

    test('concurrent claims never hand one message to two senders', async () => {
      const messages = await queue(12);
      const claims = await Promise.all(
        Array.from({ length: 4 }, () => store().outbox.claimDue(T0 + SECOND, T0 + MINUTE, 5)),
      );
      const ids = claims.flat().map((message) => message.id);
      assert.equal(new Set(ids).size, ids.length, 'no message twice');
      assert.deepEqual([...ids].sort(), messages.map((message) => message.id).sort());
    });
  });
}
