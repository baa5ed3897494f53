import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertErrorReply, assertRefused, assertTokenRefused } from './helpers/assertions.ts';
import { FakeClock } from './helpers/clock.ts';
import { eventually, startInstance } from './helpers/instance.ts';
import { Mailbox, resetTokenOf, settled } from './helpers/mailbox.ts';
import { createTestSchema, testPostgresUrl, type TestSchema } from './helpers/postgres.ts';
import { deleteKeys, testPrefix, testRedisUrl } from './helpers/redis.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';
import { openStore } from '../src/stores/open-store.ts';
import { call, login, signupAndLogin, uniqueEmail } from './helpers/test-server.ts';

// Password reset and the outbox with several instances: on PostgreSQL each message is sent by one
// of them, and with Redis a reset on one instance ends the sessions every instance serves.
// Skipped (announced by the store contracts) without TESSERA_TEST_POSTGRES_URL and
// TESSERA_TEST_REDIS_URL; failed in CI without them.
const postgresUrl = testPostgresUrl();
const redisUrl = postgresUrl === undefined ? undefined : testRedisUrl();

/** Sign-up mails nothing here: every message in these tests is a reset link. */
const RESET_ONLY = { TESSERA_EMAIL_VERIFICATION: 'off' };

if (postgresUrl !== undefined && redisUrl !== undefined) {
  const schemas: TestSchema[] = [];
  const prefixes: string[] = [];
  after(async () => {
    for (const schema of schemas) await schema.drop();
    for (const prefix of prefixes) await deleteKeys(redisUrl, prefix);
  });
  const freshSchema = async (): Promise<string> => {
    const schema = await createTestSchema(postgresUrl);
    schemas.push(schema);
    return schema.url;
  };

  test('two instances on PostgreSQL: mail queued on both, while SMTP was down, is sent once each', async () => {
    const mailbox = await Mailbox.start();
    const clock = new FakeClock();
    const env = { ...RESET_ONLY, TESSERA_DATABASE_URL: await freshSchema(), TESSERA_SMTP_URL: mailbox.url };
    const a = await startInstance(env, clock);
    const b = await startInstance(env, clock);
    try {
      const emails: string[] = [];
      for (let i = 0; i < 12; i += 1) emails.push((await signupAndLogin(i % 2 === 0 ? a : b)).email);
      await mailbox.stop();
      for (const [i, email] of emails.entries()) {
        const reply = await call(i % 2 === 0 ? a : b, 'POST', '/auth/password/forgot', { body: { email } });
        assert.equal(reply.status, 202);
      }
      await settled([a, b]);
      assert.equal(mailbox.messages.length, 0);
      // Back: both senders find the same twelve due messages at once, and share them.
      await mailbox.resume();
      clock.advanceSeconds(5);
      await settled([a, b]);
      for (const email of emails) assert.equal((await mailbox.waitFor(email)).length, 1, email);
      assert.equal(mailbox.messages.length, 12);
      assert.equal(new Set(mailbox.messages.map((message) => message.messageId)).size, 12);
    } finally {
      await a.close();
      await b.close();
      await mailbox.stop();
    }
  });

  test('PostgreSQL + Redis: a reset on one instance ends the sessions on every instance', async () => {
    const mailbox = await Mailbox.start();
    const clock = new FakeClock();
    const prefix = testPrefix();
    prefixes.push(prefix);
    const env = {
      ...RESET_ONLY,
      TESSERA_DATABASE_URL: await freshSchema(),
      TESSERA_REDIS_URL: redisUrl,
      TESSERA_REDIS_PREFIX: prefix,
      TESSERA_SMTP_URL: mailbox.url,
    };
    const a = await startInstance(env, clock, { revocationSyncIntervalMs: 60_000 });
    const b = await startInstance(env, clock, { revocationSyncIntervalMs: 60_000 });
    try {
      const email = uniqueEmail();
      const onB = await signupAndLogin(b, { email });
      assert.equal((await call(b, 'GET', '/auth/me', { token: onB.accessToken })).status, 200);
      assert.equal((await call(a, 'POST', '/auth/password/forgot', { body: { email } })).status, 202);
      const [mail] = await mailbox.waitFor(email);
      assert.ok(mail, 'the reset mail arrived');
      const token = resetTokenOf(mail);
      const reset = await call(a, 'POST', '/auth/password/reset', {
        body: { token, newPassword: 'a brand new passphrase' },
      });
      assert.equal(reset.status, 204, reset.text);
      assertTokenRefused(
        await eventually(() => call(b, 'GET', '/auth/me', { token: onB.accessToken }), 401, 1000),
        'token_revoked',
        'revoked on B by pub/sub, not the one-minute sync',
      );
      assertRefused(
        await call(b, 'POST', '/auth/refresh', { body: { refreshToken: onB.refreshToken } }),
        401,
        'invalid_grant',
      );
      assertRefused(
        await call(b, 'POST', '/auth/password/reset', {
          body: { token, newPassword: 'another passphrase!' },
        }),
        400,
        'invalid_link',
      );
      await login(b, email, 'a brand new passphrase');
    } finally {
      await a.close();
      await b.close();
      await mailbox.stop();
    }
  });

  test('PostgreSQL + Redis: a reset while Redis is down answers 503 and leaves the link usable', async () => {
    const mailbox = await Mailbox.start();
    const clock = new FakeClock();
    const prefix = testPrefix();
    prefixes.push(prefix);
    const target = new URL(redisUrl);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
    const viaProxy = new URL(redisUrl);
    viaProxy.port = String(proxy.port);
    // Redis goes away once the reset reaches the store: after the rate limits (in Redis too) have
    // let it through, which is when a failure could burn the link and leave the sessions.
    let cutOnReset = false;
    const server = await startInstance(
      {
        ...RESET_ONLY,
        TESSERA_DATABASE_URL: await freshSchema(),
        TESSERA_REDIS_URL: viaProxy.href,
        TESSERA_REDIS_PREFIX: prefix,
        TESSERA_SMTP_URL: mailbox.url,
      },
      clock,
      {
        async open(config) {
          const store = await openStore(config);
          const reset = store.recovery.resetPassword.bind(store.recovery);
          store.recovery.resetPassword = (request) => {
            if (cutOnReset) proxy.cut();
            return reset(request);
          };
          return store;
        },
      },
    );
    try {
      const session = await signupAndLogin(server);
      assert.equal(
        (await call(server, 'POST', '/auth/password/forgot', { body: { email: session.email } })).status,
        202,
      );
      const [mail] = await mailbox.waitFor(session.email);
      assert.ok(mail, 'the reset mail arrived');
      const token = resetTokenOf(mail);
      const body = { token, newPassword: 'a brand new passphrase' };

      cutOnReset = true;
      assertErrorReply(await call(server, 'POST', '/auth/password/reset', { body }), 503, 'unavailable');
      cutOnReset = false;
      proxy.restore();
      await eventually(() => call(server, 'GET', '/readyz'), 200, 10_000);

      // Nothing was spent or changed: the old password still works, and the same link resets it.
      const again = await login(server, session.email);
      const reset = await call(server, 'POST', '/auth/password/reset', { body });
      assert.equal(reset.status, 204, reset.text);
      for (const live of [session, again]) {
        assertRefused(
          await call(server, 'POST', '/auth/refresh', { body: { refreshToken: live.refreshToken } }),
          401,
          'invalid_grant',
        );
      }
      await login(server, session.email, 'a brand new passphrase');
    } finally {
      await server.close();
      await proxy.close();
      await mailbox.stop();
    }
  });
}
