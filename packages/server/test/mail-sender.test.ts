import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MailSender } from '../src/mail/mail-sender.ts';
import type { Envelope, MailTransport } from '../src/mail/transport.ts';
import { enqueueMail } from '../src/stores/outbox/sql-outbox-store.ts';
import type { OutboxMessage } from '../src/stores/outbox/outbox-store.ts';
import { SqliteStore } from '../src/stores/sqlite/sqlite-store.ts';

// The relay is a remote party Tessera does not ship: here one that holds a delivery until the
// test lets it finish. The outbox is a real SQLite file's store, shared by two senders, as two
// instances share a database.
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

test('a delivery slower than the lease keeps its lease: another sender never takes it, and it is sent once', async () => {
  const store = SqliteStore.open(':memory:');
  const delivered: string[] = [];
  let finish: () => void = () => {};
  const slowRelay: MailTransport = {
    send(envelope: Envelope) {
      return new Promise<void>((resolve) => {
        finish = () => {
          delivered.push(envelope.id);
          resolve();
        };
      });
    },
    close() {},
  };
  const fastRelay: MailTransport = {
    async send(envelope: Envelope) {
      delivered.push(envelope.id);
    },
    close() {},
  };
  let now = 1_000_000;
  const options = { from: 'accounts@tessera.test', now: () => now, leaseMs: 300 };
  const a = new MailSender(store.outbox, slowRelay, options);
  const b = new MailSender(store.outbox, fastRelay, options);
  try {
    await store.runPlan(function* () {
      yield enqueueMail(message('slow', now));
    });
    a.nudge();
    // Three leases pass while A's relay holds the message; A renews as they pass.
    for (let i = 0; i < 3; i += 1) {
      await sleep(150);
      now += 250;
      b.nudge();
      await b.idle();
      assert.deepEqual(delivered, [], `B took nothing while A was delivering (lease ${i + 1})`);
    }
    finish();
    await a.idle();
    now += 10_000;
    b.nudge();
    await b.idle();
    assert.deepEqual(delivered, ['slow'], 'delivered once, by A');
    assert.equal(await store.outbox.countQueued(), 0);
  } finally {
    finish();
    await a.stop();
    await b.stop();
    await store.close();
  }
});
