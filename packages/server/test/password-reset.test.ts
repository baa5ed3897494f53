import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Row } from '../src/stores/rows.ts';
import type { SqlPlan } from '../src/stores/sql-plan.ts';
import { assertRefused, assertTokenRefused } from './helpers/assertions.ts';
import { backends, withMailbox } from './helpers/backends.ts';
import { FakeClock } from './helpers/clock.ts';
import type { Instance } from './helpers/instance.ts';
import { Mailbox, resetTokenOf, settled } from './helpers/mailbox.ts';
import { call, login, PASSWORD, signupAndLogin, startServer, uniqueEmail } from './helpers/test-server.ts';

const NEW_PASSWORD = 'a brand new passphrase';
/** Sign-up mails nothing here: every message in these tests is a reset link. */
const RESET_ONLY = { TESSERA_EMAIL_VERIFICATION: 'off' };

/** Asks for a reset link and returns its token, as the person reads it from the mail. */
async function resetLinkFor(server: Instance, mailbox: Mailbox, email: string): Promise<string> {
  const before = mailbox.to(email).length;
  const reply = await call(server, 'POST', '/auth/password/forgot', { body: { email } });
  assert.equal(reply.status, 202, reply.text);
  const messages = await mailbox.waitFor(email, before + 1);
  assert.equal(messages.length, before + 1, 'the reset mail arrived');
  return resetTokenOf(messages.at(-1)!);
}

async function mailMetric(server: Pick<Instance, 'app'>, outcome: string): Promise<number> {
  const text = await server.app.tessera.metrics.render();
  const match = new RegExp(`^tessera_mail_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text);
  return Number(match?.[1]);
}

async function queuedGauge(server: Pick<Instance, 'app'>): Promise<number> {
  const text = await server.app.tessera.metrics.render();
  return Number(/^tessera_mail_queued (\d+)$/m.exec(text)?.[1]);
}

for (const backend of backends()) {
  describe(`password reset by emailed link, through a real SMTP server (${backend.name})`, () => {
    const ctx = withMailbox(backend, {
      ...RESET_ONLY,
      TESSERA_MAIL_FROM: 'Accounts <accounts@tessera.test>',
    });

    test('the link resets the password and ends every session; the old password and tokens are dead', async () => {
      const first = await signupAndLogin(ctx.server);
      const second = await login(ctx.server, first.email);
      const token = await resetLinkFor(ctx.server, ctx.mailbox, first.email);
      const [mail] = ctx.mailbox.to(first.email);
      assert.match(mail!.from, /^"?Accounts"? <accounts@tessera\.test>$/);
      assert.equal(mail!.subject, 'Reset your password');
      assert.match(mail!.text, new RegExp(`http://tessera\\.test/reset-password#token=${token}`));
      assert.match(mail!.html, new RegExp(`href="http://tessera\\.test/reset-password#token=${token}"`));
      assert.match(mail!.text, /within 30 minutes/);

      const reset = await call(ctx.server, 'POST', '/auth/password/reset', {
        body: { token, newPassword: NEW_PASSWORD },
      });
      assert.equal(reset.status, 204, reset.text);

      for (const session of [first, second]) {
        assertRefused(
          await call(ctx.server, 'POST', '/auth/refresh', { body: { refreshToken: session.refreshToken } }),
          401,
          'invalid_grant',
        );
        assertTokenRefused(
          await call(ctx.server, 'GET', '/auth/me', { token: session.accessToken }),
          'token_revoked',
        );
      }
      assertRefused(
        await call(ctx.server, 'POST', '/auth/login', { body: { email: first.email, password: PASSWORD } }),
        401,
        'invalid_credentials',
      );
      await login(ctx.server, first.email, NEW_PASSWORD);

      // Single use: the same link again changes nothing.
      assertRefused(
        await call(ctx.server, 'POST', '/auth/password/reset', {
          body: { token, newPassword: 'yet another passphrase' },
        }),
        400,
        'invalid_link',
      );
      await login(ctx.server, first.email, NEW_PASSWORD);

      const audit = await ctx.server.store.audit.list({ subject: first.userId, limit: 20 });
      const actions = audit.items.map((entry) => entry.action);
      assert.ok(actions.includes('password_reset_requested'), actions.join());
      assert.ok(actions.includes('password_reset'), actions.join());
      assert.doesNotMatch(JSON.stringify(audit.items), new RegExp(token));
    });

    test('a weak new password is refused without spending the link', async () => {
      const user = await signupAndLogin(ctx.server);
      const token = await resetLinkFor(ctx.server, ctx.mailbox, user.email);
      assertRefused(
        await call(ctx.server, 'POST', '/auth/password/reset', { body: { token, newPassword: 'short' } }),
        400,
        'invalid_request',
      );
      const reply = await call(ctx.server, 'POST', '/auth/password/reset', {
        body: { token, newPassword: NEW_PASSWORD },
      });
      assert.equal(reply.status, 204, reply.text);
    });

    test('a link expires after TESSERA_RESET_TTL (30 minutes)', async () => {
      const user = await signupAndLogin(ctx.server);
      const token = await resetLinkFor(ctx.server, ctx.mailbox, user.email);
      ctx.clock.advanceSeconds(30 * 60 + 1);
      assertRefused(
        await call(ctx.server, 'POST', '/auth/password/reset', {
          body: { token, newPassword: NEW_PASSWORD },
        }),
        400,
        'invalid_link',
      );
      await login(ctx.server, user.email);
    });

    test('unknown, malformed and guessed tokens all answer invalid_link', async () => {
      for (const token of ['x', 'A'.repeat(43), 'A'.repeat(44), `${'A'.repeat(42)}=`]) {
        assertRefused(
          await call(ctx.server, 'POST', '/auth/password/reset', {
            body: { token, newPassword: NEW_PASSWORD },
          }),
          400,
          'invalid_link',
          token,
        );
      }
    });

    test('using one link kills the other outstanding ones; a password change kills them too', async () => {
      const user = await signupAndLogin(ctx.server);
      const older = await resetLinkFor(ctx.server, ctx.mailbox, user.email);
      const newer = await resetLinkFor(ctx.server, ctx.mailbox, user.email);
      assert.notEqual(older, newer);
      assert.equal(
        (
          await call(ctx.server, 'POST', '/auth/password/reset', {
            body: { token: newer, newPassword: NEW_PASSWORD },
          })
        ).status,
        204,
      );
      assertRefused(
        await call(ctx.server, 'POST', '/auth/password/reset', {
          body: { token: older, newPassword: PASSWORD },
        }),
        400,
        'invalid_link',
      );

      const pending = await resetLinkFor(ctx.server, ctx.mailbox, user.email);
      const session = await login(ctx.server, user.email, NEW_PASSWORD);
      const changed = await call(ctx.server, 'POST', '/auth/password', {
        token: session.accessToken,
        body: { currentPassword: NEW_PASSWORD, newPassword: PASSWORD },
      });
      assert.equal(changed.status, 204, changed.text);
      assertRefused(
        await call(ctx.server, 'POST', '/auth/password/reset', {
          body: { token: pending, newPassword: NEW_PASSWORD },
        }),
        400,
        'invalid_link',
        'a link issued before a password change',
      );
    });

    test('concurrent resets with one link: exactly one succeeds', async () => {
      const user = await signupAndLogin(ctx.server);
      const token = await resetLinkFor(ctx.server, ctx.mailbox, user.email);
      const replies = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          call(ctx.server, 'POST', '/auth/password/reset', {
            body: { token, newPassword: `${NEW_PASSWORD} ${i}` },
          }),
        ),
      );
      const won = replies.filter((reply) => reply.status === 204);
      assert.equal(won.length, 1, replies.map((reply) => reply.status).join());
      for (const reply of replies.filter((r) => r.status !== 204)) assertRefused(reply, 400, 'invalid_link');
      const winner = replies.indexOf(won[0]!);
      await login(ctx.server, user.email, `${NEW_PASSWORD} ${winner}`);
    });

    test('an unknown address answers exactly as a known one, and gets no mail', async () => {
      const known = await signupAndLogin(ctx.server);
      const unknown = uniqueEmail('nobody');
      const a = await call(ctx.server, 'POST', '/auth/password/forgot', { body: { email: known.email } });
      const b = await call(ctx.server, 'POST', '/auth/password/forgot', { body: { email: unknown } });
      assert.equal(a.status, 202);
      assert.equal(b.status, 202);
      assert.equal(a.text, b.text);
      const shape = (reply: typeof a): string[] =>
        [...reply.headers.keys()].filter((name) => !['date', 'x-request-id'].includes(name)).sort();
      assert.deepEqual(shape(a), shape(b));
      await settled([ctx.server]);
      assert.equal((await ctx.mailbox.waitFor(known.email)).length, 1);
      assert.equal(ctx.mailbox.to(unknown).length, 0);
    });

    test('a disabled account gets no link', async () => {
      const user = await signupAndLogin(ctx.server);
      await ctx.server.store.updateUser(user.userId, { disabled: true }, ctx.clock.now());
      assert.equal(
        (await call(ctx.server, 'POST', '/auth/password/forgot', { body: { email: user.email } })).status,
        202,
      );
      await settled([ctx.server]);
      assert.equal(ctx.mailbox.to(user.email).length, 0);
    });

    test('the per-address limit counts unknown addresses exactly as known ones', async () => {
      const known = (await signupAndLogin(ctx.server)).email;
      const unknown = uniqueEmail('nobody');
      for (const email of [known, unknown]) {
        const statuses: number[] = [];
        for (let i = 0; i < 6; i += 1) {
          statuses.push(
            (await call(ctx.server, 'POST', '/auth/password/forgot', { body: { email } })).status,
          );
        }
        assert.deepEqual(statuses, [202, 202, 202, 202, 202, 429], email === known ? 'known' : 'unknown');
      }
      await settled([ctx.server]);
      assert.equal(ctx.mailbox.to(known).length, 5);
    });

    test('a stranger exhausting the limit does not block the owner; a flood stops the mail, never the answers', async () => {
      // Behind a trusted proxy, each X-Forwarded-For is a client of its own (REC-15).
      const clock = new FakeClock();
      const proxied = await backend.start(
        { ...RESET_ONLY, TESSERA_SMTP_URL: ctx.mailbox.url, TESSERA_TRUST_PROXY: '127.0.0.1' },
        clock,
      );
      try {
        const { email } = await signupAndLogin(proxied);
        const ask = async (client: string): Promise<number> =>
          (
            await call(proxied, 'POST', '/auth/password/forgot', {
              body: { email },
              headers: { 'x-forwarded-for': client },
            })
          ).status;
        const stranger: number[] = [];
        for (let i = 0; i < 6; i += 1) stranger.push(await ask('203.0.113.1'));
        assert.deepEqual(stranger, [202, 202, 202, 202, 202, 429]);
        assert.equal(
          await ask('198.51.100.7'),
          202,
          "the owner's own address is not limited by the stranger's",
        );
        await settled([proxied]);
        assert.equal(ctx.mailbox.to(email).length, 6);

        // Twenty more from four other addresses, all answered alike: the inbox gets fourteen of
        // them (twenty in the hour), then one more (a trickle of one per ten minutes), then none.
        const flood: number[] = [];
        for (const client of ['203.0.113.2', '203.0.113.3', '203.0.113.4', '203.0.113.5'])
          for (let i = 0; i < 5; i += 1) flood.push(await ask(client));
        assert.deepEqual(new Set(flood), new Set([202]));
        await settled([proxied]);
        assert.equal(ctx.mailbox.to(email).length, 21);
        const withheld = async (): Promise<string | undefined> =>
          /^tessera_rate_limit_hits_total\{limit="recovery_mail"\} (\d+)$/m.exec(
            await proxied.app.tessera.metrics.render(),
          )?.[1];
        assert.equal(await withheld(), '5');

        // Ten minutes on, the flood still going: one more mail, so a live link is never far.
        clock.advanceSeconds(600);
        assert.equal(await ask('203.0.113.6'), 202);
        assert.equal(await ask('198.51.100.7'), 202);
        await settled([proxied]);
        assert.equal(ctx.mailbox.to(email).length, 22);
        assert.equal(await withheld(), '6');
      } finally {
        await proxied.close();
      }
    });

    test('links are built from the configuration, never from the Host header (poisoning)', async () => {
      const user = await signupAndLogin(ctx.server);
      const reply = await call(ctx.server, 'POST', '/auth/password/forgot', {
        body: { email: user.email },
        headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', forwarded: 'host=evil.example' },
      });
      assert.equal(reply.status, 202);
      const [mail] = await ctx.mailbox.waitFor(user.email);
      assert.ok(mail);
      assert.doesNotMatch(mail.raw + mail.text + mail.html, /evil\.example/);
      assert.match(mail.text, /http:\/\/tessera\.test\/reset-password#token=/);
    });

    test('an address with a line break cannot add a header or a recipient', async () => {
      for (const email of [
        'a@example.test\r\nBcc: victim@example.test',
        'a@example.test,victim@example.test',
      ]) {
        assertRefused(
          await call(ctx.server, 'POST', '/auth/password/forgot', { body: { email } }),
          400,
          'invalid_request',
        );
      }
      await settled([ctx.server]);
      assert.equal(ctx.mailbox.to('victim@example.test').length, 0);
    });

    test('malformed requests are 400, never 500', async () => {
      for (const body of [{}, { email: 'not an email' }, { email: 7 }, { email: 'a@b.test', extra: 1 }]) {
        assertRefused(
          await call(ctx.server, 'POST', '/auth/password/forgot', { body }),
          400,
          'invalid_request',
        );
      }
      for (const body of [
        { token: 'x' },
        { newPassword: NEW_PASSWORD },
        { token: 1, newPassword: NEW_PASSWORD },
      ]) {
        assertRefused(
          await call(ctx.server, 'POST', '/auth/password/reset', { body }),
          400,
          'invalid_request',
        );
      }
    });
  });
}

describe('mail delivery survives an SMTP outage', () => {
  test('mail asked for while SMTP is down arrives once it is back, without a restart', async () => {
    const mailbox = await Mailbox.start();
    const server = await startServer({ ...RESET_ONLY, TESSERA_SMTP_URL: mailbox.url });
    try {
      const user = await signupAndLogin(server);
      await mailbox.stop();
      const reply = await call(server, 'POST', '/auth/password/forgot', { body: { email: user.email } });
      assert.equal(reply.status, 202, 'answered while the mail server is down');
      await settled([server]);
      assert.ok((await mailMetric(server, 'failed')) >= 1, 'the failed attempt is counted');
      assert.equal(await mailMetric(server, 'sent'), 0);
      assert.equal(await queuedGauge(server), 1, 'waiting in the outbox');

      await mailbox.resume();
      server.clock.advanceSeconds(5);
      await settled([server]);
      const messages = await mailbox.waitFor(user.email);
      assert.equal(messages.length, 1);
      assert.equal(await mailMetric(server, 'sent'), 1);
      assert.equal(await queuedGauge(server), 0);
      const reset = await call(server, 'POST', '/auth/password/reset', {
        body: { token: resetTokenOf(messages[0]!), newPassword: NEW_PASSWORD },
      });
      assert.equal(reset.status, 204, 'the late link works');
    } finally {
      await server.close();
      await mailbox.stop();
    }
  });

  test('a link held up by an outage past its life is given up, never sent dead', async () => {
    const mailbox = await Mailbox.start();
    const server = await startServer({ ...RESET_ONLY, TESSERA_SMTP_URL: mailbox.url });
    try {
      const user = await signupAndLogin(server);
      await mailbox.stop();
      await call(server, 'POST', '/auth/password/forgot', { body: { email: user.email } });
      await settled([server]);
      server.clock.advanceSeconds(29 * 60);
      await settled([server]);
      assert.equal(await mailMetric(server, 'given_up'), 0, 'still worth sending at 29 minutes');
      server.clock.advanceSeconds(60);
      await mailbox.resume();
      await settled([server]);
      assert.equal(await mailMetric(server, 'given_up'), 1, 'the link died at 30 minutes');
      assert.equal(await queuedGauge(server), 0);
      server.clock.advanceSeconds(3600);
      await settled([server]);
      assert.equal(mailbox.to(user.email).length, 0, 'the dead link was not mailed');
    } finally {
      await server.close();
      await mailbox.stop();
    }
  });

  test('a message is given up after a day of failures, or at once when the recipient is refused', async () => {
    const mailbox = await Mailbox.start();
    // Links that live a day: the day of retries, not the link's life, is what ends them here.
    const server = await startServer({
      ...RESET_ONLY,
      TESSERA_SMTP_URL: mailbox.url,
      TESSERA_RESET_TTL: '24h',
    });
    try {
      const refused = await signupAndLogin(server);
      mailbox.refuse.add(refused.email);
      await call(server, 'POST', '/auth/password/forgot', { body: { email: refused.email } });
      await settled([server]);
      assert.equal(await mailMetric(server, 'given_up'), 1, 'a 550 for the recipient is final');

      const late = await signupAndLogin(server);
      await mailbox.stop();
      await call(server, 'POST', '/auth/password/forgot', { body: { email: late.email } });
      await settled([server]);
      server.clock.advanceSeconds(24 * 3600);
      await settled([server]);
      assert.equal(await mailMetric(server, 'given_up'), 2, 'undeliverable for a day');
      await mailbox.resume();
      server.clock.advanceSeconds(3600);
      await settled([server]);
      assert.equal(mailbox.to(late.email).length, 0, 'a given-up message is not sent later');
      // Its content, which held the link, is gone from the database.
      const rows = await server.store.runPlan(function* (): SqlPlan<Row[]> {
        return yield {
          sql: "SELECT text_body, html_body FROM mail_outbox WHERE state = 'given_up'",
          params: [],
        };
      });
      assert.equal(rows.length, 2);
      for (const row of rows) assert.deepEqual({ ...row }, { text_body: '', html_body: '' });
    } finally {
      await server.close();
      await mailbox.stop();
    }
  });
});

describe('without TESSERA_SMTP_URL', () => {
  test('each message is written as an .eml file readable by its owner only', async () => {
    const server = await startServer(RESET_ONLY);
    try {
      const user = await signupAndLogin(server);
      await call(server, 'POST', '/auth/password/forgot', { body: { email: user.email } });
      await settled([server]);
      const dir = join(server.dir, 'mail');
      const files = readdirSync(dir).filter((name) => name.endsWith('.eml'));
      assert.equal(files.length, 1);
      const file = join(dir, files[0]!);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const raw = readFileSync(file, 'utf8');
      assert.match(raw, /^To: .*@example\.test$/m);
      assert.match(raw, /^Subject: Reset your password$/m);
      assert.match(raw, /reset-password#token=/);
    } finally {
      await server.close();
    }
  });
});

test('TESSERA_APP_URL points the links at an app of its own', async () => {
  const mailbox = await Mailbox.start();
  const server = await startServer({
    ...RESET_ONLY,
    TESSERA_SMTP_URL: mailbox.url,
    TESSERA_APP_URL: 'https://app.example.com/account',
  });
  try {
    const user = await signupAndLogin(server);
    const token = await resetLinkFor(server, mailbox, user.email);
    assert.match(
      mailbox.to(user.email)[0]!.text,
      new RegExp(`https://app\\.example\\.com/account/reset-password#token=${token}`),
    );
  } finally {
    await server.close();
    await mailbox.stop();
  }
});
