import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRefused } from '../../server/test/helpers/assertions.ts';
import { Mailbox, resetTokenOf } from '../../server/test/helpers/mailbox.ts';
import { cleanup, runCli, spawnServer } from '../../server/test/helpers/server-process.ts';
import { call, login, PASSWORD, uniqueEmail } from '../../server/test/helpers/test-server.ts';
import { deployment, stop } from './helpers/deployment.ts';

// `tessera users verify` and `tessera users send-reset` (issue 13) as real processes beside a
// running `tessera serve` on one SQLite file, with a real SMTP server receiving the mail.

after(cleanup);

test('users verify lets a required-verification account in; send-reset mails a working link', async () => {
  const mailbox = await Mailbox.start();
  const env = { ...deployment(), TESSERA_SMTP_URL: mailbox.url, TESSERA_EMAIL_VERIFICATION: 'required' };
  const server = await spawnServer(env);
  try {
    const email = uniqueEmail('cli-mail');
    assert.equal(
      (await call(server, 'POST', '/auth/signup', { body: { email, password: PASSWORD } })).status,
      201,
    );
    assertRefused(
      await call(server, 'POST', '/auth/login', { body: { email, password: PASSWORD } }),
      403,
      'email_not_verified',
    );
    const verified = await runCli(['users', 'verify', email], env);
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(verified.stdout, `verified ${email}\n`);
    await login(server, email);

    const queued = await runCli(['users', 'send-reset', email], env);
    assert.equal(queued.code, 0, queued.stderr);
    assert.match(queued.stdout, /^reset link queued for \S+, valid 30 min\n$/);
    assert.doesNotMatch(queued.stdout + queued.stderr, /token/i, 'the link is only in the mail');
    // The server's sender finds it in the outbox on its next poll (every 5 s).
    const reset = (await mailbox.waitFor(email, 2, 10_000)).find((m) => m.subject === 'Reset your password');
    assert.ok(reset, 'the reset mail arrived');
    const done = await call(server, 'POST', '/auth/password/reset', {
      body: { token: resetTokenOf(reset), newPassword: 'set from a cli link' },
    });
    assert.equal(done.status, 204, done.text);
    await login(server, email, 'set from a cli link');

    const unknown = await runCli(['users', 'send-reset', 'nobody@example.test'], env);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /nobody@example\.test|not found|no such/i);
  } finally {
    await stop(server);
    await mailbox.stop();
  }
});
