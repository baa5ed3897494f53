import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRefused } from './helpers/assertions.ts';
import { backends, withMailbox } from './helpers/backends.ts';
import { linkTokenOf, settled, type Received } from './helpers/mailbox.ts';
import { call, PASSWORD, uniqueEmail } from './helpers/test-server.ts';

/** The 6-digit code of a sign-in mail, from its text part (an indented line of its own). */
function codeOf(message: Received): string {
  const match = /^ {4}(\d{6})$/m.exec(message.text);
  if (!match) throw new Error(`no code in: ${message.text}`);
  return match[1]!;
}

/** A code that is not `code`. */
const wrong = (code: string): string => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

for (const backend of backends()) {
  describe(`sign-in by emailed code (${backend.name})`, () => {
    const ctx = withMailbox(backend, { TESSERA_EMAIL_VERIFICATION: 'required' });

    /** An account (unverified: required mode refuses its password login), and a code mailed to it. */
    async function accountWithCode(
      body: Record<string, unknown> = {},
    ): Promise<{ email: string; mail: Received }> {
      const email = uniqueEmail('code');
      assert.equal(
        (await call(ctx.server, 'POST', '/auth/signup', { body: { email, password: PASSWORD } })).status,
        201,
      );
      const asked = await call(ctx.server, 'POST', '/auth/login/email', { body: { email, ...body } });
      assert.equal(asked.status, 202, asked.text);
      await settled([ctx.server]);
      const mails = (await ctx.mailbox.waitFor(email, 2)).filter((m) =>
        m.subject.startsWith('Your sign-in code'),
      );
      assert.equal(mails.length, 1, 'one sign-in mail');
      return { email, mail: mails[0]! };
    }

    test('the mailed code signs in once, and proves the address', async () => {
      const { email, mail } = await accountWithCode();
      const code = codeOf(mail);
      assert.equal(mail.subject, `Your sign-in code: ${code}`);
      assert.match(mail.text, /within 10 minutes/);
      assertRefused(
        await call(ctx.server, 'POST', '/auth/login', { body: { email, password: PASSWORD } }),
        403,
        'email_not_verified',
        'required mode: the password alone does not sign in yet',
      );
      assertRefused(
        await call(ctx.server, 'POST', '/auth/login/email/verify', { body: { email, code: wrong(code) } }),
        401,
        'invalid_code',
      );
      const signedIn = await call(ctx.server, 'POST', '/auth/login/email/verify', { body: { email, code } });
      assert.equal(signedIn.status, 200, signedIn.text);
      assert.equal(typeof signedIn.body['refreshToken'], 'string');
      const me = await call(ctx.server, 'GET', '/auth/me', { token: String(signedIn.body['accessToken']) });
      assert.equal(me.body['email'], email);
      assert.equal(me.body['emailVerified'], true, 'the code came through the mailbox');
      const refreshed = await call(ctx.server, 'POST', '/auth/refresh', {
        body: { refreshToken: signedIn.body['refreshToken'] },
      });
      assert.equal(refreshed.status, 200, 'the session refreshes like any other');
      assertRefused(
        await call(ctx.server, 'POST', '/auth/login/email/verify', { body: { email, code } }),
        401,
        'invalid_code',
        'a code works once',
      );
      const userId = String((me.body as Record<string, unknown>)['id']);
      const audit = await ctx.server.store.audit.list({ subject: userId, limit: 10 });
      assert.ok(
        audit.items.some(
          (entry) => entry.action === 'login_succeeded' && entry.detail?.['via'] === 'email_code',
        ),
      );
      assert.ok(audit.items.some((entry) => entry.action === 'sign_in_code_requested'));
    });

    test('five wrong codes kill the code; the right one is refused after them', async () => {
      const { email, mail } = await accountWithCode();
      const code = codeOf(mail);
      for (let i = 0; i < 5; i += 1) {
        assertRefused(
          await call(ctx.server, 'POST', '/auth/login/email/verify', { body: { email, code: wrong(code) } }),
          401,
          'invalid_code',
        );
      }
      assertRefused(
        await call(ctx.server, 'POST', '/auth/login/email/verify', { body: { email, code } }),
        401,
        'invalid_code',
        'dead after five wrong tries',
      );
    });

    test('a code expires after 10 minutes', async () => {
      const { email, mail } = await accountWithCode();
      ctx.clock.advanceSeconds(601);
      assertRefused(
        await call(ctx.server, 'POST', '/auth/login/email/verify', { body: { email, code: codeOf(mail) } }),
        401,
        'invalid_code',
      );
    });

    test('a new code replaces the earlier one', async () => {
      const { email, mail: first } = await accountWithCode();
      assert.equal((await call(ctx.server, 'POST', '/auth/login/email', { body: { email } })).status, 202);
      await settled([ctx.server]);
      const second = (await ctx.mailbox.waitFor(email, 3)).filter((m) =>
        m.subject.startsWith('Your sign-in code'),
      )[1];
      assert.ok(second, 'the second code arrived');
      if (codeOf(first) !== codeOf(second)) {
        assertRefused(
          await call(ctx.server, 'POST', '/auth/login/email/verify', {
            body: { email, code: codeOf(first) },
          }),
          401,
          'invalid_code',
        );
      }
      const signedIn = await call(ctx.server, 'POST', '/auth/login/email/verify', {
        body: { email, code: codeOf(second) },
      });
      assert.equal(signedIn.status, 200, signedIn.text);
      assertRefused(
        await call(ctx.server, 'POST', '/auth/login/email/verify', {
          body: { token: linkTokenOf(first, 'sign-in') },
        }),
        400,
        'invalid_link',
        "the first mail's link died with its code",
      );
    });

    test('the link in the mail carries the same grant: spending it spends the code', async () => {
      const { email, mail } = await accountWithCode({ remember: false });
      const token = linkTokenOf(mail, 'sign-in');
      const page = await fetch(`${ctx.server.url}/sign-in`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self';/);
      assert.match(await page.text(), /data-endpoint="\/auth\/login\/email\/verify"/);
      const signedIn = await call(ctx.server, 'POST', '/auth/login/email/verify', { body: { token } });
      assert.equal(signedIn.status, 200, signedIn.text);
      assert.equal(signedIn.body['refreshToken'], undefined, 'remember: false, as the request asked');
      assertRefused(
        await call(ctx.server, 'POST', '/auth/login/email/verify', { body: { email, code: codeOf(mail) } }),
        401,
        'invalid_code',
      );
      assertRefused(
        await call(ctx.server, 'POST', '/auth/login/email/verify', { body: { token } }),
        400,
        'invalid_link',
      );
    });

    test('concurrent tries with the right code: exactly one session', async () => {
      const { email, mail } = await accountWithCode();
      const code = codeOf(mail);
      const replies = await Promise.all(
        Array.from({ length: 8 }, () =>
          call(ctx.server, 'POST', '/auth/login/email/verify', { body: { email, code } }),
        ),
      );
      assert.deepEqual(replies.map((reply) => reply.status).sort(), [200, 401, 401, 401, 401, 401, 401, 401]);
    });

    test('known and unknown addresses: the same answers, and mail only to the account', async () => {
      const known = { email: uniqueEmail('known') };
      const signup = await call(ctx.server, 'POST', '/auth/signup', {
        body: { email: known.email, password: PASSWORD },
      });
      assert.equal(signup.status, 201);
      await settled([ctx.server]);
      const before = ctx.mailbox.to(known.email).length;
      const unknown = uniqueEmail('nobody');
      const replies = [];
      for (const email of [known.email, unknown]) {
        const asked = await call(ctx.server, 'POST', '/auth/login/email', { body: { email } });
        const tried = await call(ctx.server, 'POST', '/auth/login/email/verify', {
          body: { email, code: '123456' },
        });
        replies.push({ asked: [asked.status, asked.text], tried: [tried.status, tried.text] });
      }
      assert.deepEqual(replies[0], replies[1]);
      await settled([ctx.server]);
      assert.equal(ctx.mailbox.to(unknown).length, 0);
      assert.equal(ctx.mailbox.to(known.email).length, before + 1, 'the account got its code');
      // The sixth request in the hour is refused alike for both, with the same body.
      const sixth = [];
      for (const email of [known.email, unknown]) {
        for (let i = 0; i < 4; i += 1)
          await call(ctx.server, 'POST', '/auth/login/email', { body: { email } });
        const reply = await call(ctx.server, 'POST', '/auth/login/email', { body: { email } });
        sixth.push([reply.status, reply.body['error']]);
      }
      assert.deepEqual(sixth, [
        [429, 'rate_limited'],
        [429, 'rate_limited'],
      ]);
    });

    test('malformed codes and bodies are refused with invalid_request', async () => {
      for (const body of [
        { email: 'a@b.test', code: '12345' },
        { email: 'a@b.test', code: '12345a' },
        { code: '123456' },
        {},
      ]) {
        assertRefused(
          await call(ctx.server, 'POST', '/auth/login/email/verify', { body }),
          400,
          'invalid_request',
        );
      }
    });

    test('cookie mode: the session comes as cookies, and not for a cross-site request', async () => {
      const sameSite = { 'sec-fetch-site': 'same-origin' };
      const email = uniqueEmail('cookie');
      assert.equal(
        (await call(ctx.server, 'POST', '/auth/signup', { body: { email, password: PASSWORD } })).status,
        201,
      );
      assertRefused(
        await call(ctx.server, 'POST', '/auth/login/email', {
          body: { email, cookie: true },
          headers: { origin: 'https://evil.test' },
        }),
        403,
        'csrf_failed',
      );
      const asked = await call(ctx.server, 'POST', '/auth/login/email', {
        body: { email, cookie: true },
        headers: sameSite,
      });
      assert.equal(asked.status, 202);
      await settled([ctx.server]);
      const mail = (await ctx.mailbox.waitFor(email, 2)).find((m) =>
        m.subject.startsWith('Your sign-in code'),
      )!;
      const crossSite = await call(ctx.server, 'POST', '/auth/login/email/verify', {
        body: { token: linkTokenOf(mail, 'sign-in') },
        headers: { origin: 'https://evil.test' },
      });
      assertRefused(crossSite, 403, 'csrf_failed');
      assert.equal(crossSite.headers.get('set-cookie'), null);
      assertRefused(
        await call(ctx.server, 'POST', '/auth/login/email/verify', {
          body: { email, code: codeOf(mail) },
          headers: sameSite,
        }),
        401,
        'invalid_code',
        'the refused request spent the grant, and started no session',
      );
      const again = await call(ctx.server, 'POST', '/auth/login/email', {
        body: { email, cookie: true },
        headers: sameSite,
      });
      assert.equal(again.status, 202);
      await settled([ctx.server]);
      const next = (await ctx.mailbox.waitFor(email, 3)).filter((m) =>
        m.subject.startsWith('Your sign-in code'),
      )[1]!;
      const signedIn = await call(ctx.server, 'POST', '/auth/login/email/verify', {
        body: { email, code: codeOf(next) },
        headers: sameSite,
      });
      assert.equal(signedIn.status, 200, signedIn.text);
      assert.equal(signedIn.body['accessToken'], undefined);
      assert.match(signedIn.headers.get('set-cookie') ?? '', /__Host-tessera_at=/);
    });
  });
}
