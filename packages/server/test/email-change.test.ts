import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRefused } from './helpers/assertions.ts';
import { backends, withMailbox } from './helpers/backends.ts';
import { linkTokenOf, resetTokenOf, settled, type Received } from './helpers/mailbox.ts';
import { call, login, PASSWORD, signupAndLogin, uniqueEmail, type LoggedIn } from './helpers/test-server.ts';

const confirmTokenOf = (message: Received): string => linkTokenOf(message, 'confirm-email');

for (const backend of backends()) {
  describe(`email change (${backend.name})`, () => {
    // Sign-up mails nothing here: the messages in these tests are the change's own.
    const ctx = withMailbox(backend, { TESSERA_EMAIL_VERIFICATION: 'off' });

    async function askChange(session: LoggedIn, newEmail: string, password = PASSWORD): Promise<void> {
      const reply = await call(ctx.server, 'POST', '/auth/email/change', {
        token: session.accessToken,
        body: { newEmail, password },
      });
      assert.equal(reply.status, 202, reply.text);
      await settled([ctx.server]);
    }

    test('a link to the new address, a notice to the old; the address changes on confirm only', async () => {
      const session = await signupAndLogin(ctx.server);
      const newEmail = uniqueEmail('new');
      await askChange(session, newEmail);
      const [confirm] = await ctx.mailbox.waitFor(newEmail);
      const [notice] = await ctx.mailbox.waitFor(session.email);
      assert.ok(confirm && notice, 'both mails arrived');
      assert.equal(confirm.subject, 'Confirm your new email address');
      assert.equal(notice.subject, 'Your email address is being changed');
      assert.ok(notice.text.includes(newEmail));
      assert.doesNotMatch(notice.text, /#token=/, 'the old address never gets the link');

      await login(ctx.server, session.email); // nothing changed yet
      const page = await fetch(`${ctx.server.url}/confirm-email`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /data-endpoint="\/auth\/email\/change\/confirm"/);

      const token = confirmTokenOf(confirm);
      const confirmed = await call(ctx.server, 'POST', '/auth/email/change/confirm', { body: { token } });
      assert.equal(confirmed.status, 200, confirmed.text);
      const user = confirmed.body['user'] as Record<string, unknown>;
      assert.equal(user['email'], newEmail);
      assert.equal(user['emailVerified'], true, 'the link reached the new address');

      const me = await call(ctx.server, 'GET', '/auth/me', { token: session.accessToken });
      assert.equal(me.body['email'], newEmail, 'the session stays signed in, with the new address');
      await login(ctx.server, newEmail);
      assertRefused(
        await call(ctx.server, 'POST', '/auth/login', { body: { email: session.email, password: PASSWORD } }),
        401,
        'invalid_credentials',
      );
      assertRefused(
        await call(ctx.server, 'POST', '/auth/email/change/confirm', { body: { token } }),
        400,
        'invalid_link',
      );
      const audit = await ctx.server.store.audit.list({ subject: session.userId, limit: 20 });
      const actions = audit.items.map((entry) => entry.action);
      assert.ok(
        actions.includes('email_change_requested') && actions.includes('email_changed'),
        actions.join(),
      );
    });

    test('the password is required, and a wrong one sends nothing', async () => {
      const session = await signupAndLogin(ctx.server);
      const newEmail = uniqueEmail('new');
      assertRefused(
        await call(ctx.server, 'POST', '/auth/email/change', {
          token: session.accessToken,
          body: { newEmail, password: 'not the password' },
        }),
        401,
        'invalid_credentials',
      );
      assertRefused(
        await call(ctx.server, 'POST', '/auth/email/change', { body: { newEmail, password: PASSWORD } }),
        401,
        'invalid_token',
      );
      assertRefused(
        await call(ctx.server, 'POST', '/auth/email/change', {
          token: session.accessToken,
          body: { newEmail: session.email.toUpperCase(), password: PASSWORD },
        }),
        400,
        'invalid_request',
        'the address it already has',
      );
      await settled([ctx.server]);
      assert.equal(ctx.mailbox.to(newEmail).length + ctx.mailbox.to(session.email).length, 0);
    });

    test('an address with an account: the same 202, and no mail to it', async () => {
      const session = await signupAndLogin(ctx.server);
      const other = await signupAndLogin(ctx.server);
      await askChange(session, other.email);
      assert.equal(ctx.mailbox.to(other.email).length, 0);
    });

    test('two accounts asking for one free address: the first to confirm gets it', async () => {
      const first = await signupAndLogin(ctx.server);
      const second = await signupAndLogin(ctx.server);
      const wanted = uniqueEmail('wanted');
      await askChange(first, wanted);
      await askChange(second, wanted);
      const links = await ctx.mailbox.waitFor(wanted, 2);
      assert.equal(links.length, 2);
      const [a, b] = links.map(confirmTokenOf);
      assert.equal(
        (await call(ctx.server, 'POST', '/auth/email/change/confirm', { body: { token: a } })).status,
        200,
      );
      assertRefused(
        await call(ctx.server, 'POST', '/auth/email/change/confirm', { body: { token: b } }),
        409,
        'email_taken',
      );
    });

    test('concurrent confirms with one link: exactly one changes the address', async () => {
      const session = await signupAndLogin(ctx.server);
      const newEmail = uniqueEmail('new');
      await askChange(session, newEmail);
      const token = confirmTokenOf((await ctx.mailbox.waitFor(newEmail))[0]!);
      const replies = await Promise.all(
        Array.from({ length: 6 }, () =>
          call(ctx.server, 'POST', '/auth/email/change/confirm', { body: { token } }),
        ),
      );
      assert.deepEqual(replies.map((reply) => reply.status).sort(), [200, 400, 400, 400, 400, 400]);
    });

    test('a password change or a reset kills a pending change; a newer request replaces it', async () => {
      const session = await signupAndLogin(ctx.server);
      const newEmail = uniqueEmail('new');
      await askChange(session, newEmail);
      const changed = await call(ctx.server, 'POST', '/auth/password', {
        token: session.accessToken,
        body: { currentPassword: PASSWORD, newPassword: 'a different passphrase' },
      });
      assert.equal(changed.status, 204, changed.text);
      const [link] = await ctx.mailbox.waitFor(newEmail);
      assertRefused(
        await call(ctx.server, 'POST', '/auth/email/change/confirm', {
          body: { token: confirmTokenOf(link!) },
        }),
        400,
        'invalid_link',
      );

      await askChange(session, newEmail, 'a different passphrase');
      const second = (await ctx.mailbox.waitFor(newEmail, 2))[1]!;
      await askChange(session, uniqueEmail('newer'), 'a different passphrase');
      assertRefused(
        await call(ctx.server, 'POST', '/auth/email/change/confirm', {
          body: { token: confirmTokenOf(second) },
        }),
        400,
        'invalid_link',
        'replaced by the newer request',
      );

      const third = uniqueEmail('third');
      await askChange(session, third, 'a different passphrase');
      const [thirdLink] = await ctx.mailbox.waitFor(third);
      assert.equal(
        (await call(ctx.server, 'POST', '/auth/password/forgot', { body: { email: session.email } })).status,
        202,
      );
      await settled([ctx.server]);
      const resetMail = (await ctx.mailbox.waitFor(session.email, 4)).find(
        (m) => m.subject === 'Reset your password',
      )!;
      const reset = await call(ctx.server, 'POST', '/auth/password/reset', {
        body: { token: resetTokenOf(resetMail), newPassword: 'the owner is back in' },
      });
      assert.equal(reset.status, 204);
      assertRefused(
        await call(ctx.server, 'POST', '/auth/email/change/confirm', {
          body: { token: confirmTokenOf(thirdLink!) },
        }),
        400,
        'invalid_link',
        'the reset cancelled the change',
      );
    });
  });
}
