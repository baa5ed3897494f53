import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWK } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { ConfigError, loadConfig } from '../src/index.ts';
import {
  call,
  decodeHeader,
  signupAndLogin,
  startServer,
  type LoggedIn,
  type TestServer,
} from './helpers/test-server.ts';

/**
 * Interoperability (SPEC §3): the access tokens Tessera issues verify with the two libraries
 * resource servers use most — `jose` against the published JWKS, `jsonwebtoken` against a PEM
 * made from it — for every signing algorithm, and the JWKS itself publishes only what it should.
 */

const ISSUER = 'http://tessera.test';
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
const MAX_TOKEN_BYTES = { RS256: 1024, ES256: 600, EdDSA: 600, HS256: 600 } as const;

type Alg = keyof typeof MAX_TOKEN_BYTES;

const bits = (member: unknown): number => Buffer.from(String(member), 'base64url').length * 8;

for (const alg of ['RS256', 'ES256', 'EdDSA', 'HS256'] as const satisfies readonly Alg[]) {
  describe(`${alg} access tokens`, () => {
    const secret = randomBytes(32);
    let server: TestServer;
    let session: LoggedIn;
    let jwks: { keys: JWK[] };
    let cacheControl: string;

    before(async () => {
      const env: Record<string, string> = { TESSERA_SIGNING_ALG: alg };
      if (alg === 'HS256') env['TESSERA_HS256_SECRET'] = secret.toString('base64url');
      server = await startServer(env);
      session = await signupAndLogin(server);
      const reply = await call(server, 'GET', '/.well-known/jwks.json');
      assert.equal(reply.status, 200, reply.text);
      jwks = reply.body as unknown as { keys: JWK[] };
      cacheControl = reply.headers.get('cache-control') ?? '';
    });
    after(async () => server.close());

    const expected = () => ({
      issuer: ISSUER,
      audience: ISSUER,
      typ: 'at+jwt',
      algorithms: [alg],
      currentDate: new Date(server.clock.now()),
    });

    test('the JWKS publishes public signing keys only, cacheably', () => {
      assert.match(cacheControl, /(^|[\s,])max-age=[1-9]\d*($|[\s,])/);
      for (const key of jwks.keys) {
        assert.notEqual(key.kty, 'oct', 'no symmetric key is ever published');
        for (const member of PRIVATE_MEMBERS) assert.equal(Object.hasOwn(key, member), false, member);
        assert.equal(key.use, 'sig');
        assert.equal(key.alg, alg);
        assert.equal(typeof key.kid, 'string');
      }
      const kids = jwks.keys.map((key) => key.kid);
      assert.equal(new Set(kids).size, kids.length, 'kids are unique');

      if (alg === 'HS256') {
        assert.deepEqual(jwks.keys, [], 'an HS256 server has nothing to publish');
        return;
      }
      assert.equal(jwks.keys.length, 1);
      const [key] = jwks.keys;
      assert.equal(key?.kid, decodeHeader(session.accessToken)['kid'], 'the signing key is published');
      if (alg === 'RS256') {
        assert.equal(key?.kty, 'RSA');
        assert.ok(bits(key?.n) >= 2048, `RSA modulus of ${bits(key?.n)} bits`);
        assert.equal(key?.e, 'AQAB');
      } else if (alg === 'ES256') {
        assert.equal(key?.kty, 'EC');
        assert.equal(key?.crv, 'P-256');
        assert.equal(bits(key?.x), 256);
        assert.equal(bits(key?.y), 256);
      } else {
        assert.equal(key?.kty, 'OKP');
        assert.equal(key?.crv, 'Ed25519');
        assert.equal(bits(key?.x), 256);
      }
    });

    test(`the token is under ${MAX_TOKEN_BYTES[alg]} bytes, with the RFC 9068 header`, async () => {
      const size = Buffer.byteLength(session.accessToken);
      assert.ok(size < MAX_TOKEN_BYTES[alg], `${alg} token of ${size} bytes`);
      const header = decodeHeader(session.accessToken);
      assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid', 'typ']);
      assert.equal(header['alg'], alg);
      assert.equal(header['typ'], 'at+jwt');
      const me = await call(server, 'GET', '/auth/me', { token: session.accessToken });
      assert.equal(me.status, 200, `the server accepts its own ${alg} token: ${me.text}`);
    });

    if (alg === 'HS256') {
      test('jose verifies it with the shared secret, and with nothing else', async () => {
        const { payload, protectedHeader } = await jwtVerify(session.accessToken, secret, expected());
        assert.equal(payload.sub, session.userId);
        assert.equal(payload['sid'], session.sessionId);
        assert.equal(protectedHeader.alg, 'HS256');

        await assert.rejects(
          jwtVerify(session.accessToken, randomBytes(32), expected()),
          joseErrors.JWSSignatureVerificationFailed,
        );
        const remote = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
        // jose does not even look a symmetric algorithm up in a JWKS (JOSENotSupported).
        await assert.rejects(jwtVerify(session.accessToken, remote, expected()), joseErrors.JOSEError);
      });
      return;
    }

    test('jose verifies it against the remote JWKS', async () => {
      const remote = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
      const { payload, protectedHeader } = await jwtVerify(session.accessToken, remote, expected());
      assert.equal(payload.sub, session.userId);
      assert.equal(payload['sid'], session.sessionId);
      assert.equal(payload.iss, ISSUER);
      assert.equal(payload.aud, ISSUER);
      assert.equal(protectedHeader.alg, alg);
      assert.equal(protectedHeader.typ, 'at+jwt');
    });

    if (alg === 'RS256' || alg === 'ES256') {
      test('jsonwebtoken verifies it with a PEM made from the JWKS', () => {
        const jwk = jwks.keys[0];
        assert.ok(jwk);
        const pem = createPublicKey({ key: jwk, format: 'jwk' })
          .export({ type: 'spki', format: 'pem' })
          .toString();
        const claims = jsonwebtoken.verify(session.accessToken, pem, {
          algorithms: [alg],
          issuer: ISSUER,
          audience: ISSUER,
          clockTimestamp: Math.floor(server.clock.now() / 1000),
        });
        assert.equal(typeof claims, 'object');
        assert.equal((claims as jsonwebtoken.JwtPayload).sub, session.userId);
        assert.throws(
          () =>
            jsonwebtoken.verify(session.accessToken, pem, {
              algorithms: [alg === 'RS256' ? 'ES256' : 'RS256'],
              clockTimestamp: Math.floor(server.clock.now() / 1000),
            }),
          jsonwebtoken.JsonWebTokenError,
          'a verifier pinned to another algorithm refuses it',
        );
      });
    }
  });
}

describe('HS256 secret configuration (ATTACKS ALG-10)', () => {
  const configure = (secret: string) =>
    loadConfig({
      TESSERA_DATABASE_URL: 'sqlite::memory:',
      TESSERA_SIGNING_ALG: 'HS256',
      TESSERA_HS256_SECRET: secret,
    });

  test('a secret shorter than 32 bytes stops the configuration, naming the variable', () => {
    for (const secret of [31, 16, 1].map((size) => randomBytes(size).toString('base64url'))) {
      assert.throws(
        () => configure(secret),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.variable === 'TESSERA_HS256_SECRET' &&
          error.message.includes('TESSERA_HS256_SECRET') &&
          !error.message.includes(secret),
        `secret of ${Buffer.from(secret, 'base64url').length} bytes`,
      );
    }
  });

  test('a secret that is not base64url is refused; 32 bytes are accepted', () => {
    assert.throws(() => configure(`${randomBytes(33).toString('base64')}==`), ConfigError);
    const secret = randomBytes(32);
    assert.deepEqual(configure(secret.toString('base64url')).hs256Secret, secret);
  });
});
