import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLI_ACTOR } from '../src/index.ts';
import { assertRefused } from './helpers/assertions.ts';
import { backends, withMailbox } from './helpers/backends.ts';
import type { Instance } from './helpers/instance.ts';
import { linkTokenOf, Mailbox, settled, type Received } from './helpers/mailbox.ts';
import { call, login, PASSWORD, signupAndLogin, startServer, uniqueEmail } from './helpers/test-server.ts';

const verifyTokenOf = (message: Received): string => linkTokenOf(message, 'verify-email');

async function signup(server: Pick<Instance, 'url'>, email = uniqueEmail()): Promise<string> {
  const reply = await call(server, 'POST', '/auth/signup', { body: { email, password: PASSWORD } });
  assert.equal(reply.status, 201, reply.text);
  return email;
}

for (const backend of backends()) {
  describe(`email verification, optional (the default) (${backend.name})`, () => {
    const ctx = withMailbox(backend, {});

    test('sign-up mails a link; login works meanwhile; the link verifies the address once', async () => {
      const email = await signup(ctx.server);
      const [mail] = await ctx.mailbox.waitFor(email);
      assert.ok(mail, 'the verification mail arrived');
      assert.equal(mail.subject, 'Confirm your email address');
      assert.match(mail.text, /within 24 hours/);
      const token = verifyTokenOf(mail);

      const session = await login(ctx.server, email);
      const before = await call(ctx.server, 'GET', '/auth/me', { token: session.accessToken });
      assert.equal(before.body['emailVerified'], false);

      const verified = await call(ctx.server, 'POST', '/auth/email/verify', { body: { token } });
      assert.equal(verified.status, 200, verified.text);
      assert.equal((verified.body['user'] as Record<string, unknown>)['emailVerified'], true);
      const after = await call(ctx.server, 'GET', '/auth/me', { token: session.accessToken });
      assert.equal(after.body['emailVerified'], true);

      assertRefused(
        await call(ctx.server, 'POST', '/auth/email/verify', { body: { token } }),
        400,
        'invalid_link',
      );
      const audit = await ctx.server.store.audit.list({ subject: session.userId, limit: 10 });
      assert.ok(audit.items.some((entry) => entry.action === 'email_verified'));
    });

    test('the link opens a page that spends nothing by itself: a Confirm button, strict CSP, no-store', async () => {
      const email = await signup(ctx.server);
      const [mail] = await ctx.mailbox.waitFor(email);
      const link = /https?:\/\/\S+\/verify-email#token=[A-Za-z0-9_-]+/.exec(mail!.text)![0];
      const page = await fetch(ctx.server.url + new URL(link).pathname);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self';/);
      assert.equal(page.headers.get('cache-control'), 'no-store');
      assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
      assert.match(await page.text(), /<button id="link-submit" type="button">Confirm<\/button>/);
      // Loading it (what a scanner does) left the token unspent.
      const verified = await call(ctx.server, 'POST', '/auth/email/verify', {
        body: { token: verifyTokenOf(mail!) },
      });
      assert.equal(verified.status, 200);
    });

    test('a verification link cannot reset a password, nor a reset link verify', async () => {
      const email = await signup(ctx.server);
      const [mail] = await ctx.mailbox.waitFor(email);
      const token = verifyTokenOf(mail!);
      assertRefused(
        await call(ctx.server, 'POST', '/auth/password/reset', {
          body: { token, newPassword: 'another passphrase' },
        }),
        400,
        'invalid_link',
      );
      await call(ctx.server, 'POST', '/auth/password/forgot', { body: { email } });
      const messages = await ctx.mailbox.waitFor(email, 2);
      const reset = /#token=([A-Za-z0-9_-]+)/.exec(messages[1]!.text)![1]!;
      assertRefused(
        await call(ctx.server, 'POST', '/auth/email/verify', { body: { token: reset } }),
        400,
        'invalid_link',
      );
    });

    test('a password reset through the mailbox proves the address too', async () => {
      const email = await signup(ctx.server);
      await ctx.mailbox.waitFor(email);
      await call(ctx.server, 'POST', '/auth/password/forgot', { body: { email } });
      const messages = await ctx.mailbox.waitFor(email, 2);
      const reset = /reset-password#token=([A-Za-z0-9_-]+)/.exec(messages[1]!.text)![1]!;
      const reply = await call(ctx.server, 'POST', '/auth/password/reset', {
        body: { token: reset, newPassword: 'a brand new passphrase' },
      });
      assert.equal(reply.status, 204);
      const session = await login(ctx.server, email, 'a brand new passphrase');
      assert.equal(
        (await call(ctx.server, 'GET', '/auth/me', { token: session.accessToken })).body['emailVerified'],
        true,
      );
    });

    test('resend: a new link for an unverified address, nothing for a verified one, 401 without a token', async () => {
      const email = await signup(ctx.server);
      await ctx.mailbox.waitFor(email);
      const session = await login(ctx.server, email);
      const resent = await call(ctx.server, 'POST', '/auth/email/verify/resend', {
        token: session.accessToken,
      });
      assert.equal(resent.status, 202, resent.text);
      const messages = await ctx.mailbox.waitFor(email, 2);
      assert.equal(messages.length, 2);
      assert.notEqual(verifyTokenOf(messages[0]!), verifyTokenOf(messages[1]!));
      // Either link works (both are live until one is used).
      assert.equal(
        (
          await call(ctx.server, 'POST', '/auth/email/verify', {
            body: { token: verifyTokenOf(messages[0]!) },
          })
        ).status,
        200,
      );
      assert.equal(
        (await call(ctx.server, 'POST', '/auth/email/verify/resend', { token: session.accessToken })).status,
        202,
      );
      await settled([ctx.server]);
      assert.equal(ctx.mailbox.to(email).length, 2, 'nothing sent for a verified address');
      assert.equal((await call(ctx.server, 'POST', '/auth/email/verify/resend')).status, 401);
    });

    test('the admin user list shows whether each address is verified', async () => {
      const admin = await signupAndLogin(ctx.server);
      await ctx.server.app.tessera.administration.updateUser(
        admin.userId,
        { role: 'admin' },
        CLI_ACTOR,
        ctx.clock.now(),
      );
      const token = (await login(ctx.server, admin.email)).accessToken;
      const email = await signup(ctx.server);
      const listed = async (): Promise<unknown> =>
        (
          (await call(ctx.server, 'GET', `/admin/users?q=${encodeURIComponent(email)}`, { token })).body[
            'items'
          ] as Array<Record<string, unknown>>
        )[0]?.['emailVerified'];
      assert.equal(await listed(), false);
      const [mail] = await ctx.mailbox.waitFor(email);
      await call(ctx.server, 'POST', '/auth/email/verify', { body: { token: verifyTokenOf(mail!) } });
      assert.equal(await listed(), true);
    });
  });
}

describe('email verification, required', () => {
  test('login and refresh answer 403 email_not_verified until the address is verified', async () => {
    const mailbox = await Mailbox.start();
    const first = await startServer({ TESSERA_SMTP_URL: mailbox.url });
    const email = await signup(first);
    const [mail] = await mailbox.waitFor(email);
    // A session from before the setting changed.
    const old = await login(first, email);
    await first.close({ keepData: true });
    const server = await startServer(
      { TESSERA_SMTP_URL: mailbox.url, TESSERA_EMAIL_VERIFICATION: 'required' },
      { dir: first.dir, clock: first.clock },
    );
    try {
      assertRefused(
        await call(server, 'POST', '/auth/login', { body: { email, password: 'a wrong password' } }),
        401,
        'invalid_credentials',
        'the wrong password says nothing about verification',
      );
      assertRefused(
        await call(server, 'POST', '/auth/login', { body: { email, password: PASSWORD } }),
        403,
        'email_not_verified',
      );
      assertRefused(
        await call(server, 'POST', '/auth/refresh', { body: { refreshToken: old.refreshToken } }),
        403,
        'email_not_verified',
      );
      const verified = await call(server, 'POST', '/auth/email/verify', {
        body: { token: verifyTokenOf(mail!) },
      });
      assert.equal(verified.status, 200, verified.text);
      // The refresh token was not consumed by the refusal: it works now.
      const refreshed = await call(server, 'POST', '/auth/refresh', {
        body: { refreshToken: old.refreshToken },
      });
      assert.equal(refreshed.status, 200, refreshed.text);
      await login(server, email);
    } finally {
      await server.close();
      await mailbox.stop();
    }
  });
});

describe('email verification, off', () => {
  test('sign-up sends nothing and login works', async () => {
    const mailbox = await Mailbox.start();
    const server = await startServer({ TESSERA_SMTP_URL: mailbox.url, TESSERA_EMAIL_VERIFICATION: 'off' });
    try {
      const { email } = await signupAndLogin(server);
      await settled([server]);
      assert.equal(mailbox.to(email).length, 0);
    } finally {
      await server.close();
      await mailbox.stop();
    }
  });
});
