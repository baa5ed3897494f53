import type { JWK } from 'jose';
import {
  buildForgedAccessTokens,
  type ForgedTokenCase,
} from '../../../../test/corpus/forged-access-tokens.ts';
import { call, type TestServer } from './test-server.ts';

/**
 * The forged-token corpus for a running test server: built from one of its real tokens, its
 * served JWKS and its real signing key ([KEY] cases), so the server's and the verifier's tests
 * refuse exactly the same tokens.
 */
export async function forgedTokensFor(
  server: TestServer,
  validToken: string,
  loopbackUrl: string,
): Promise<ForgedTokenCase[]> {
  const jwks = await call(server, 'GET', '/.well-known/jwks.json');
  if (jwks.status !== 200) throw new Error(`JWKS: ${jwks.status} ${jwks.text}`);
  const { tessera } = server.app;
  const key = tessera.keyring.signingKey(server.clock.now());
  return buildForgedAccessTokens({
    token: validToken,
    jwks: jwks.body as unknown as { keys: JWK[] },
    signingKey: { privateKey: key.privateKey, kid: key.kid, alg: key.algorithm.name },
    issuer: tessera.config.issuer,
    audience: tessera.config.audience,
    now: Math.floor(server.clock.now() / 1000),
    leeway: tessera.config.clockSkew,
    loopbackUrl,
  });
}
