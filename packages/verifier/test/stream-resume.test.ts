import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, signupAndLogin } from '../../server/test/helpers/test-server.ts';
import { cleanup, spawnServer, tempDatabaseUrl } from '../../server/test/helpers/server-process.ts';
import { createVerifier } from '../src/index.ts';
import { startProxy } from './helpers/proxy.ts';
import { msUntil, outcomeOf } from './helpers/verifier-setup.ts';

const ISSUER = 'http://tessera.test';

/**
 * The stream survives the auth server's death: `tessera serve` processes on one database file,
 * the verifier behind a proxy so its URL stays put. Revocations made (by a second instance) while
 * the verifier's server is down arrive after it restarts, from the verifier's cursor.
 */
describe('the revocation stream across an auth server restart', () => {
  after(cleanup);

  test('reconnects and resumes from its cursor without missing an entry', async () => {
    const env = { TESSERA_DATABASE_URL: tempDatabaseUrl(), TESSERA_ISSUER: ISSUER };
    const first = await spawnServer(env);
    const other = await spawnServer(env);
    const proxy = await startProxy(first.url);
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: ISSUER,
      jwksUrl: `${proxy.url}/.well-known/jwks.json`,
      revocations: { url: `${proxy.url}/auth/revocations` },
    });
    try {
      const before = await signupAndLogin(other);
      const during = await Promise.all([1, 2, 3].map(() => signupAndLogin(other)));
      const untouched = await signupAndLogin(other);
      await call(other, 'POST', '/auth/logout', { token: before.accessToken });
      await msUntil(verifier, before.accessToken, 'token_revoked');
      const streamsOpened = proxy.hits('/auth/revocations/stream');

      first.child.kill('SIGKILL');
      await first.exited;
      for (const session of during) await call(other, 'POST', '/auth/logout', { token: session.accessToken });

      const restarted = await spawnServer(env);
      proxy.setTarget(restarted.url);
      for (const session of during) await msUntil(verifier, session.accessToken, 'token_revoked', 10_000);
      assert.equal(await outcomeOf(verifier, before.accessToken), 'token_revoked', 'nothing forgotten');
      assert.equal(await outcomeOf(verifier, untouched.accessToken), 'accepted');
      assert.ok(proxy.hits('/auth/revocations/stream') > streamsOpened, 'the stream was reopened');

      // Back on the stream: a new revocation is pushed again.
      const later = await signupAndLogin(other);
      await call(restarted, 'POST', '/auth/logout', { token: later.accessToken });
      await msUntil(verifier, later.accessToken, 'token_revoked');
    } finally {
      await verifier.close();
      await proxy.close();
    }
  });
});
