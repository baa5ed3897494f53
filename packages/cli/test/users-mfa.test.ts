import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { totpCode } from '../../server/src/mfa/totp.ts';
import { cleanup, runCli, spawnServer } from '../../server/test/helpers/server-process.ts';
import { call, login, PASSWORD, uniqueEmail } from '../../server/test/helpers/test-server.ts';
import { deployment, stop } from './helpers/deployment.ts';

// `tessera users reset-mfa` (issue 14) as a real process beside a running `tessera serve` on one
// SQLite file (its sealing key generated beside the database).

after(cleanup);

test('users reset-mfa removes a lost authenticator: the password alone signs in again', async () => {
  const env = deployment();
  const server = await spawnServer(env);
  try {
    const email = uniqueEmail('cli-mfa');
    assert.equal(
      (await call(server, 'POST', '/auth/signup', { body: { email, password: PASSWORD } })).status,
      201,
    );
    const session = await login(server, email);
    const started = await call(server, 'POST', '/auth/mfa/totp', {
      token: session.accessToken,
      body: { password: PASSWORD },
    });
    assert.equal(started.status, 200, started.text);
    const confirmed = await call(server, 'POST', '/auth/mfa/totp/confirm', {
      token: session.accessToken,
      body: { code: totpCode(String(started.body['secret']), Date.now()) },
    });
    assert.equal(confirmed.status, 200, confirmed.text);
    const stopped = await call(server, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
    assert.equal(stopped.body['error'], 'mfa_required');

    const shown = await runCli(['users', 'show', email], env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /\nsecond factor: an authenticator app \(10 recovery codes left\)\n$/);
    assert.match(shown.stdout, /\nemail verified: no\n/);

    const reset = await runCli(['users', 'reset-mfa', email], env);
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal(reset.stdout, `second factors removed for ${email}\n`);
    await login(server, email);
    const again = await runCli(['users', 'reset-mfa', email], env);
    assert.equal(again.stdout, `${email} has no second factor\n`);
    assert.match((await runCli(['users', 'show', email], env)).stdout, /\nsecond factor: none\n$/);
  } finally {
    await stop(server);
  }
});
