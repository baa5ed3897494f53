import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertErrorReply, assertRefused } from './helpers/assertions.ts';
import { backends, withMailbox } from './helpers/backends.ts';
import { createTestSchema, testPostgresUrl } from './helpers/postgres.ts';
import { startInstance } from './helpers/instance.ts';
import { FakeClock } from './helpers/clock.ts';
import { linkTokenOf, settled, type Received } from './helpers/mailbox.ts';
import {
  call,
  decodePayload,
  login,
  PASSWORD,
  signupAndLogin,
  type LoggedIn,
  type Reply,
} from './helpers/test-server.ts';
import { CLI_ACTOR } from '../src/index.ts';
import { totpCode } from '../src/mfa/totp.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';

/** The 6-digit code of a sign-in mail (an indented line of its own). */
const mailedCodeOf = (message: Received): string => /^ {4}(\d{6})$/m.exec(message.text)![1]!;

for (const backend of backends()) {
  describe(`second factor: TOTP and recovery codes (${backend.name})`, () => {
    // PostgreSQL has no default sealing key: the deployment sets one (SQLite's key file is tested below).
    const ctx = withMailbox(backend, {
      TESSERA_EMAIL_VERIFICATION: 'off',
      TESSERA_SECRET_KEY: SecretBox.generateKey(),
    });

    /** The next 30-second step: a code of the current one may have been used already. */
    const nextStep = (): void => ctx.clock.advanceSeconds(30);
    const code = (secret: string): string => totpCode(secret, ctx.clock.now());

    /** A signed-in user with an active TOTP factor: its secret and its recovery codes. */
    async function enrolled(): Promise<{ session: LoggedIn; secret: string; recoveryCodes: string[] }> {
      const session = await signupAndLogin(ctx.server);
      const started = await call(ctx.server, 'POST', '/auth/mfa/totp', {
        token: session.accessToken,
        body: { password: PASSWORD },
      });
      assert.equal(started.status, 200, started.text);
      const secret = String(started.body['secret']);
      const confirmed = await call(ctx.server, 'POST', '/auth/mfa/totp/confirm', {
        token: session.accessToken,
        body: { code: code(secret) },
      });
      assert.equal(confirmed.status, 200, confirmed.text);
      return { session, secret, recoveryCodes: confirmed.body['recoveryCodes'] as string[] };
    }

    async function passwordLogin(email: string): Promise<Reply> {
      return call(ctx.server, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
    }

    /** The mfaToken of a `403 mfa_required`, after checking that answer carries nothing else. */
    function mfaTokenOf(reply: Reply): string {
      assert.equal(reply.status, 403, reply.text);
      assert.deepEqual(Object.keys(reply.body).sort(), ['error', 'message', 'methods', 'mfaToken']);
      assert.equal(reply.body['error'], 'mfa_required');
      assert.deepEqual(reply.body['methods'], ['totp', 'recovery_code']);
      assert.doesNotMatch(reply.text, /accessToken|refreshToken/);
      return String(reply.body['mfaToken']);
    }

    const verify = (mfaToken: string, submitted: string): Promise<Reply> =>
      call(ctx.server, 'POST', '/auth/mfa/verify', { body: { mfaToken, code: submitted } });

    test('enrolment: the password, then pending until the first code; ten recovery codes, once; other sessions end', async () => {
      const session = await signupAndLogin(ctx.server);
      const other = await login(ctx.server, session.email);
      const token = session.accessToken;
      assert.deepEqual((await call(ctx.server, 'GET', '/auth/mfa', { token })).body, {
        totp: 'none',
        recoveryCodesLeft: 0,
      });
      // A stolen access token alone cannot put the thief's app on the account.
      assertRefused(
        await call(ctx.server, 'POST', '/auth/mfa/totp', { token, body: { password: 'not the password' } }),
        401,
        'invalid_credentials',
      );
      assertRefused(
        await call(ctx.server, 'POST', '/auth/mfa/totp', { token, body: {} }),
        400,
        'invalid_request',
      );
      const started = await call(ctx.server, 'POST', '/auth/mfa/totp', {
        token,
        body: { password: PASSWORD },
      });
      assert.equal(started.status, 200, started.text);
      const secret = String(started.body['secret']);
      assert.match(secret, /^[A-Z2-7]{32}$/);
      assert.match(String(started.body['otpauthUri']), /^otpauth:\/\/totp\/.*secret=[A-Z2-7]{32}/);
      assert.match(String(started.body['qrCode']), /^data:image\/svg\+xml;base64,/);
      const svg = Buffer.from(String(started.body['qrCode']).split(',')[1]!, 'base64').toString();
      assert.match(svg, /^<svg /);
      assert.equal((await call(ctx.server, 'GET', '/auth/mfa', { token })).body['totp'], 'pending');
      // A pending factor asks nothing at login.
      assert.equal((await passwordLogin(session.email)).status, 200);

      const wrong = String((Number(code(secret)) + 1) % 1_000_000).padStart(6, '0');
      assertRefused(
        await call(ctx.server, 'POST', '/auth/mfa/totp/confirm', { token, body: { code: wrong } }),
        401,
        'invalid_code',
      );
      const confirmed = await call(ctx.server, 'POST', '/auth/mfa/totp/confirm', {
        token,
        body: { code: code(secret) },
      });
      assert.equal(confirmed.status, 200, confirmed.text);
      const recoveryCodes = confirmed.body['recoveryCodes'] as string[];
      assert.equal(recoveryCodes.length, 10);
      for (const recovery of recoveryCodes) assert.match(recovery, /^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$/);
      assert.deepEqual((await call(ctx.server, 'GET', '/auth/mfa', { token })).body, {
        totp: 'active',
        recoveryCodesLeft: 10,
      });
      // The session that enrolled goes on; one begun without the factor (a thief's?) ends.
      assertRefused(
        await call(ctx.server, 'POST', '/auth/refresh', { body: { refreshToken: other.refreshToken } }),
        401,
        'invalid_grant',
      );
      const refreshed = await call(ctx.server, 'POST', '/auth/refresh', {
        body: { refreshToken: session.refreshToken },
      });
      assert.equal(refreshed.status, 200, refreshed.text);
      assertRefused(
        await call(ctx.server, 'POST', '/auth/mfa/totp', { token, body: { password: PASSWORD } }),
        400,
        'invalid_request',
      );
    });

    test('password login stops at the second step; a TOTP code finishes it, and works once', async () => {
      const { session, secret } = await enrolled();
      const mfaToken = mfaTokenOf(await passwordLogin(session.email));
      nextStep();
      const current = code(secret);
      const done = await verify(mfaToken, current);
      assert.equal(done.status, 200, done.text);
      const accessToken = String(done.body['accessToken']);
      assert.equal((await call(ctx.server, 'GET', '/auth/me', { token: accessToken })).status, 200);
      assertRefused(await verify(mfaToken, current), 401, 'invalid_grant', 'the mfaToken is spent');
      // RFC 8176: password, one-time code, both. A refreshed token says the same, and the time of
      // the sign-in, not of the refresh.
      const signedInAt = Math.floor(ctx.clock.now() / 1000);
      assert.deepEqual(decodePayload(accessToken)['amr'], ['pwd', 'otp', 'mfa']);
      assert.equal(decodePayload(accessToken)['auth_time'], signedInAt);
      ctx.clock.advanceSeconds(600);
      const refreshed = await call(ctx.server, 'POST', '/auth/refresh', {
        body: { refreshToken: done.body['refreshToken'] },
      });
      assert.equal(refreshed.status, 200, refreshed.text);
      const later = decodePayload(String(refreshed.body['accessToken']));
      assert.deepEqual(later['amr'], ['pwd', 'otp', 'mfa']);
      assert.equal(later['auth_time'], signedInAt);

      // The same code with a fresh mfaToken: refused, a code is accepted once (replay).
      const again = mfaTokenOf(await passwordLogin(session.email));
      assertRefused(await verify(again, current), 401, 'invalid_code');
      nextStep();
      assert.equal((await verify(again, code(secret))).status, 200, 'the next code works');
    });

    test('five wrong codes kill the mfaToken; a right one after that is refused', async () => {
      const { session, secret } = await enrolled();
      const mfaToken = mfaTokenOf(await passwordLogin(session.email));
      nextStep();
      const right = code(secret);
      const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
      for (let i = 0; i < 5; i += 1) assertRefused(await verify(mfaToken, wrong), 401, 'invalid_code');
      assertRefused(await verify(mfaToken, right), 401, 'invalid_grant');
      // The sixth try was not looked at: the right code it carried is still unused.
      assert.equal((await verify(mfaTokenOf(await passwordLogin(session.email)), right)).status, 200);

      // Four wrong codes and then the right one: the fifth try still counts.
      const fifth = mfaTokenOf(await passwordLogin(session.email));
      nextStep();
      for (let i = 0; i < 4; i += 1) assertRefused(await verify(fifth, wrong), 401, 'invalid_code');
      assert.equal((await verify(fifth, code(secret))).status, 200);
    });

    test('a recovery code works once, in any case and spacing; a new set kills the old one', async () => {
      const { session, secret, recoveryCodes } = await enrolled();
      const [first, second] = recoveryCodes;
      const done = await verify(mfaTokenOf(await passwordLogin(session.email)), first!.toLowerCase());
      assert.equal(done.status, 200, done.text);
      assertRefused(
        await verify(mfaTokenOf(await passwordLogin(session.email)), first!),
        401,
        'invalid_code',
      );
      assert.equal(
        (await call(ctx.server, 'GET', '/auth/mfa', { token: session.accessToken })).body[
          'recoveryCodesLeft'
        ],
        9,
      );
      nextStep();
      const renewed = await call(ctx.server, 'POST', '/auth/mfa/recovery-codes', {
        token: session.accessToken,
        body: { code: code(secret) },
      });
      assert.equal(renewed.status, 200, renewed.text);
      assertRefused(
        await verify(mfaTokenOf(await passwordLogin(session.email)), second!),
        401,
        'invalid_code',
      );
      const fresh = (renewed.body['recoveryCodes'] as string[])[0]!;
      assert.equal((await verify(mfaTokenOf(await passwordLogin(session.email)), fresh)).status, 200);
    });

    test('sign-in by emailed code stops at the second step too', async () => {
      const { session, secret } = await enrolled();
      const before = ctx.mailbox.to(session.email).length;
      assert.equal(
        (await call(ctx.server, 'POST', '/auth/login/email', { body: { email: session.email } })).status,
        202,
      );
      await settled([ctx.server]);
      const [mail] = (await ctx.mailbox.waitFor(session.email, before + 1)).slice(-1);
      const byCode = await call(ctx.server, 'POST', '/auth/login/email/verify', {
        body: { email: session.email, code: mailedCodeOf(mail!) },
      });
      const mfaToken = mfaTokenOf(byCode);
      nextStep();
      const done = await verify(mfaToken, code(secret));
      assert.equal(done.status, 200, done.text);
      assert.deepEqual(decodePayload(String(done.body['accessToken']))['amr'], ['otp', 'mfa']);

      // The link in the same kind of mail: the same stop.
      assert.equal(
        (await call(ctx.server, 'POST', '/auth/login/email', { body: { email: session.email } })).status,
        202,
      );
      await settled([ctx.server]);
      const [link] = (await ctx.mailbox.waitFor(session.email, before + 2)).slice(-1);
      mfaTokenOf(
        await call(ctx.server, 'POST', '/auth/login/email/verify', {
          body: { token: linkTokenOf(link!, 'sign-in') },
        }),
      );
    });

    test('removing the factor needs a code or the password; then login asks nothing more', async () => {
      const { session, secret } = await enrolled();
      const token = session.accessToken;
      assertRefused(
        await call(ctx.server, 'DELETE', '/auth/mfa/totp', { token, body: { password: 'not the password' } }),
        401,
        'invalid_credentials',
      );
      assertRefused(
        await call(ctx.server, 'DELETE', '/auth/mfa/totp', { token, body: { code: code(secret) } }),
        401,
        'invalid_code',
        'the confirming code was used already',
      );
      nextStep();
      const removed = await call(ctx.server, 'DELETE', '/auth/mfa/totp', {
        token,
        body: { code: code(secret) },
      });
      assert.equal(removed.status, 204, removed.text);
      assert.equal((await passwordLogin(session.email)).status, 200);
      assertRefused(
        await call(ctx.server, 'DELETE', '/auth/mfa/totp', { token, body: { password: PASSWORD } }),
        400,
        'invalid_request',
      );
    });

    test('the app lost: the password removes the factor only from a fresh sign-in (step-up)', async () => {
      const { session, recoveryCodes } = await enrolled();
      ctx.clock.advanceSeconds(301);
      const stale = await call(ctx.server, 'DELETE', '/auth/mfa/totp', {
        token: session.accessToken,
        body: { password: PASSWORD },
      });
      assertRefused(stale, 401, 'insufficient_user_authentication');
      assert.match(
        String(stale.headers.get('www-authenticate')),
        /error="insufficient_user_authentication".*max_age="300"/,
      );
      // Signed in again with a recovery code, the password is enough.
      const fresh = await verify(mfaTokenOf(await passwordLogin(session.email)), recoveryCodes[0]!);
      assert.equal(fresh.status, 200, fresh.text);
      const removed = await call(ctx.server, 'DELETE', '/auth/mfa/totp', {
        token: String(fresh.body['accessToken']),
        body: { password: PASSWORD },
      });
      assert.equal(removed.status, 204, removed.text);
    });

    test('an admin resets the factors of a user who lost them; only an admin may', async () => {
      const { session } = await enrolled();
      mfaTokenOf(await passwordLogin(session.email));
      const helper = await signupAndLogin(ctx.server);
      const path = `/admin/users/${session.userId}/mfa/reset`;
      assertRefused(
        await call(ctx.server, 'POST', path, { token: helper.accessToken }),
        403,
        'insufficient_scope',
      );
      await ctx.server.app.tessera.administration.updateUser(
        helper.userId,
        { role: 'admin' },
        CLI_ACTOR,
        ctx.clock.now(),
      );
      const admin = await login(ctx.server, helper.email);
      const reset = await call(ctx.server, 'POST', path, { token: admin.accessToken });
      assert.equal(reset.status, 200, reset.text);
      assert.deepEqual(reset.body, { removed: true });
      assert.equal((await passwordLogin(session.email)).status, 200, 'the password alone signs in again');
      assert.deepEqual((await call(ctx.server, 'POST', path, { token: admin.accessToken })).body, {
        removed: false,
      });
      const audit = await call(ctx.server, 'GET', `/admin/audit?subject=${session.userId}`, {
        token: admin.accessToken,
      });
      const actions = (audit.body['items'] as Array<{ action: string }>).map((entry) => entry.action);
      assert.ok(actions.includes('mfa_reset') && actions.includes('mfa_enabled'), actions.join());
    });

    test('malformed second steps are 4xx with a stable code, never 500', async () => {
      for (const body of [
        {},
        { mfaToken: 'x' },
        { mfaToken: 'x'.repeat(43), code: '123456' },
        { mfaToken: 'x', code: '12' },
        { mfaToken: 'x', code: '123456', extra: 1 },
      ]) {
        const reply = await call(ctx.server, 'POST', '/auth/mfa/verify', { body });
        assert.ok(reply.status >= 400 && reply.status < 500, `${JSON.stringify(body)}: ${reply.text}`);
      }
      assertRefused(await verify('A'.repeat(43), '123456'), 401, 'invalid_grant');
    });
  });
}

test('the embedded default seals with a key file it makes; PostgreSQL without a key refuses to enrol', async () => {
  const clock = new FakeClock();
  const [sqlite] = backends();
  const embedded = await sqlite!.start({}, clock);
  try {
    const session = await signupAndLogin(embedded);
    assert.equal(
      (
        await call(embedded, 'POST', '/auth/mfa/totp', {
          token: session.accessToken,
          body: { password: PASSWORD },
        })
      ).status,
      200,
    );
  } finally {
    await embedded.close();
  }
  const postgresUrl = testPostgresUrl();
  if (postgresUrl === undefined) return;
  const schema = await createTestSchema(postgresUrl);
  const server = await startInstance({ TESSERA_DATABASE_URL: schema.url }, clock);
  try {
    const session = await signupAndLogin(server);
    assertErrorReply(
      await call(server, 'POST', '/auth/mfa/totp', {
        token: session.accessToken,
        body: { password: PASSWORD },
      }),
      503,
      'mfa_unavailable',
    );
    assert.deepEqual((await call(server, 'GET', '/auth/mfa', { token: session.accessToken })).body, {
      totp: 'none',
      recoveryCodesLeft: 0,
    });
  } finally {
    await server.close();
    await schema.drop();
  }
});
