import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MailSender, type MailEvent } from '../src/mail/mail-sender.ts';
import type { Envelope, MailTransport } from '../src/mail/transport.ts';
import { enqueueMail } from '../src/stores/outbox/sql-outbox-store.ts';
import type { OutboxMessage } from '../src/stores/outbox/outbox-store.ts';
import { SqliteStore } from '../src/stores/sqlite/sqlite-store.ts';

// The relay is a remote party Tessera does not ship: here one that takes the first message and
// never answers (a tarpit), then behaves. The outbox is a real SQLite store.
function message(id: string, createdAt: number): OutboxMessage {
  return {
    id,
    recipient: `${id}@example.test`,
    template: 'password_reset',
    subject: 'Reset your password',
    text: 'text',
    html: '<p>html</p>',
    createdAt,
    expiresAt: null,
  };
}

// Without the deadline the sender would wait for ever: the timeout turns that into a failure.
test(
  'a relay that never answers fails the delivery within the lease; the next message still goes',
  { timeout: 10_000 },
  async () => {
    const store = SqliteStore.open(':memory:');
    const sent: string[] = [];
    const relay: MailTransport = {
      send(envelope: Envelope) {
        if (envelope.id === 'stuck' && !sent.includes('stuck-tried')) {
          sent.push('stuck-tried');
          return new Promise<void>(() => {});
        }
        sent.push(envelope.id);
        return Promise.resolve();
      },
      close() {},
    };
    let now = 1_000_000;
    const events: MailEvent[] = [];
    const sender = new MailSender(store.outbox, relay, {
      from: 'accounts@tessera.test',
      now: () => now,
      leaseMs: 400,
      report: (event) => events.push(event),
    });
    try {
      await store.runPlan(function* () {
        yield enqueueMail(message('stuck', now - 1));
        yield enqueueMail(message('behind', now));
      });
      sender.nudge();
      await sender.idle();
      assert.deepEqual(
        events.map((event) => [event.kind, event.message.id, 'error' in event ? event.error : null]),
        [
          ['failed', 'stuck', 'EDEADLINE'],
          ['sent', 'behind', null],
        ],
        'the stuck delivery was failed at its deadline, and did not hold up the next message',
      );
      now += 5000;
      sender.nudge();
      await sender.idle();
      assert.deepEqual(sent, ['stuck-tried', 'behind', 'stuck'], 'retried after its backoff');
      assert.equal(await store.outbox.countQueued(), 0);
    } finally {
      await sender.stop();
      await store.close();
    }
  },
);
