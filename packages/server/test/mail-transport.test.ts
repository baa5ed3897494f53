import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smtpTransport, type Envelope } from '../src/mail/transport.ts';
import { Mailbox } from './helpers/mailbox.ts';

const envelope: Envelope = {
  id: 'transport-test',
  from: 'tessera@example.test',
  to: 'someone@example.test',
  subject: 'Reset your password',
  text: 'https://app.example.test/reset-password#token=not-for-eavesdroppers',
  html: '<p>link</p>',
};

test('smtp:// to a relay that does not offer STARTTLS: refused unless loopback or ?tls=none (REC-11)', async () => {
  // The test relay offers no STARTTLS, as a relay behind an attacker who strips the offer would.
  const mailbox = await Mailbox.start();
  try {
    // 0.0.0.0 reaches this machine's listeners on Linux, but is not a loopback name: the rule
    // for a remote relay applies.
    const remote = mailbox.url.replace('127.0.0.1', '0.0.0.0');
    await assert.rejects(smtpTransport(remote).send(envelope), { code: 'ETLS' });
    assert.equal(mailbox.messages.length, 0, 'nothing was sent in plain text');

    await smtpTransport(`${remote}?tls=none`).send(envelope);
    await smtpTransport(mailbox.url).send(envelope);
    assert.equal(mailbox.messages.length, 2, 'explicit opt-out, and a loopback relay, deliver');
  } finally {
    await mailbox.stop();
  }
});
