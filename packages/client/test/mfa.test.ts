import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCode } from '../../server/src/mfa/totp.ts';
import { TesseraRequestError } from '../src/index.ts';
import { loggedIn, PASSWORD } from './helpers/setup.ts';

test('a second factor through the SDK: enrol, then login stops at mfa_required and verifyMfa finishes it', async (t) => {
  const { client, newClient, email, server } = await loggedIn(t);
  assert.deepEqual(await client.mfaStatus(), { totp: 'none', recoveryCodesLeft: 0 });
  const { secret, qrCode } = await client.enrolTotp(PASSWORD);
  assert.match(qrCode, /^data:image\/svg\+xml;base64,/);
  const recoveryCodes = await client.confirmTotp(totpCode(secret, server.clock.now()));
  assert.equal(recoveryCodes.length, 10);
  assert.deepEqual(await client.mfaStatus(), { totp: 'active', recoveryCodesLeft: 10 });

  const other = newClient();
  let started = false;
  other.on('start', () => (started = true));
  const stopped = await other.login({ email, password: PASSWORD }).catch((caught: unknown) => caught);
  assert.ok(stopped instanceof TesseraRequestError);
  assert.equal(stopped.code, 'mfa_required');
  assert.equal(stopped.status, 403);
  assert.deepEqual(stopped.methods, ['totp', 'recovery_code']);
  assert.equal(started, false, 'no session before the second step');

  await assert.rejects(other.verifyMfa({ mfaToken: stopped.mfaToken!, code: '000000' }), {
    code: 'invalid_code',
  });
  const user = await other.verifyMfa({ mfaToken: stopped.mfaToken!, code: recoveryCodes[0]! });
  assert.equal(user.email, email);
  assert.equal(started, true);
  assert.equal((await other.me()).email, email);

  server.clock.advanceSeconds(30);
  const fresh = await client.newRecoveryCodes(totpCode(secret, server.clock.now()));
  assert.equal(fresh.length, 10);
  server.clock.advanceSeconds(30);
  await client.removeTotp({ code: totpCode(secret, server.clock.now()) });
  assert.deepEqual(await client.mfaStatus(), { totp: 'none', recoveryCodesLeft: 0 });
});
