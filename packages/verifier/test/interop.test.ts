import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  signupAndLogin,
  startServer,
  type LoggedIn,
  type TestServer,
} from '../../server/test/helpers/test-server.ts';
import type { Verifier } from '../src/index.ts';
import { outcomeOf, resignWithJose, verifierFor } from './helpers/verifier-setup.ts';

/**
 * Interop (issue 4): tokens issued by a real Tessera server verify with the library for every
 * signing algorithm, on the calling thread and on the threadpool, and so do tokens signed by
 * `jose` with the same key; the library's checks run in the documented order.
 */
for (const alg of ['RS256', 'ES256', 'EdDSA', 'HS256'] as const) {
  describe(`${alg}: server tokens verify with @tessera/verifier`, () => {
    const secret = randomBytes(32).toString('base64url');
    let server: TestServer;
    let session: LoggedIn;
    let verifiers: Verifier[];

    before(async () => {
      const env: Record<string, string> = { TESSERA_SIGNING_ALG: alg };
      if (alg === 'HS256') env['TESSERA_HS256_SECRET'] = secret;
      server = await startServer(env);
      session = await signupAndLogin(server);
      const keys = alg === 'HS256' ? { secret } : {};
      verifiers = [
        verifierFor(server, keys),
        verifierFor(server, { ...keys, signatureVerification: 'threadpool' }),
      ];
    });
    after(async () => {
      await Promise.all(verifiers.map((verifier) => verifier.close()));
      await server.close();
    });

    test('a server token verifies, sync and on the threadpool, to typed claims', async () => {
      for (const verifier of verifiers) {
        const claims = await verifier.verify(session.accessToken);
        assert.equal(claims.sub, session.userId);
        assert.equal(claims.sid, session.sessionId);
        assert.equal(claims.role, 'user');
        assert.equal(claims.aud, server.app.tessera.config.audience);
        assert.equal(typeof claims.exp, 'number');
      }
    });

    test('a token signed by jose with the same key verifies', async () => {
      const token = await resignWithJose(server, session.accessToken, { jti: 'signed-by-jose' });
      for (const verifier of verifiers) assert.equal((await verifier.verify(token)).jti, 'signed-by-jose');
    });

    test('the signature is checked before the claims: an expired forgery is invalid, not expired', async () => {
      const [verifier] = verifiers as [Verifier];
      const iat = Math.floor(server.clock.now() / 1000) - 3600;
      const expired = await resignWithJose(server, session.accessToken, { iat, nbf: iat, exp: iat + 900 });
      assert.equal(await outcomeOf(verifier, expired), 'token_expired');
      const [h, p, s = ''] = expired.split('.');
      const flipped = Buffer.from(s, 'base64url');
      flipped.writeUInt8(flipped.readUInt8(0) ^ 1, 0);
      assert.equal(await outcomeOf(verifier, `${h}.${p}.${flipped.toString('base64url')}`), 'invalid_token');
    });

    test('another audience or issuer is refused', async () => {
      const [verifier] = verifiers as [Verifier];
      const otherAudience = await resignWithJose(server, session.accessToken, {
        aud: 'https://orders.example',
      });
      assert.equal(await outcomeOf(verifier, otherAudience), 'invalid_token');
      const otherIssuer = await resignWithJose(server, session.accessToken, { iss: 'https://evil.example' });
      assert.equal(await outcomeOf(verifier, otherIssuer), 'invalid_token');
    });
  });
}

describe('configuration mistakes are reported at creation', () => {
  test('a short HS256 secret, an unknown algorithm or a bad duration throw', async () => {
    const { createVerifier } = await import('../src/index.ts');
    const base = { issuer: 'http://tessera.test', audience: 'http://tessera.test' };
    assert.throws(() => createVerifier({ ...base, secret: randomBytes(16) }), /at least 32 bytes/);
    assert.throws(
      () => createVerifier({ ...base, algorithms: ['none' as 'RS256'] }),
      /unsupported algorithm/,
    );
    assert.throws(() => createVerifier({ ...base, clockSkew: '5 minutes' }), /clockSkew/);
  });
});
