import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TesseraError } from '@tessera/protocol';
import { createVerifier, type Verifier } from '@tessera/verifier';
import { call, signupAndLogin, startServer, type LoggedIn, type TestServer } from './helpers/test-server.ts';

/**
 * Property-based tests (fast-check): random and mutated inputs never produce a 500 and never a
 * successful authentication. Runs are bounded so the file stays within a few seconds; a failure
 * prints the shrunk counterexample and the seed to replay it. Requests go over real HTTP on
 * loopback: Fastify's `inject` lacks `headersDistinct`, which the bearer parser reads.
 */

const TOKEN_FAILURES = new Set(['invalid_token', 'token_expired', 'token_revoked']);
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
// Printable ASCII only: what an `Authorization` header can carry at all.
const TOKEN_CHARS = `${B64URL}.=+/~ !"#$%&'()*,:;<>?@[\\]^\`{|}`;

const segmentJson = (token: string, index: number) =>
  JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A mutation of a valid compact JWS: bytes changed, segments re-encoded or rearranged. */
function mutations(token: string): fc.Arbitrary<string> {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const claims = segmentJson(token, 1);
  const joseHeader = segmentJson(token, 0);
  const at = fc.nat({ max: token.length });
  const char = fc.constantFrom(...TOKEN_CHARS);
  return fc.oneof(
    fc.tuple(at, char).map(([i, c]) => token.slice(0, i) + c + token.slice(i + 1)),
    fc.tuple(at, char).map(([i, c]) => token.slice(0, i) + c + token.slice(i)),
    fc.tuple(at, fc.integer({ min: 1, max: 8 })).map(([i, n]) => token.slice(0, i) + token.slice(i + n)),
    // A claim changed, added or dropped, the signature kept.
    fc
      .tuple(fc.constantFrom(...Object.keys(claims), 'admin', '__proto__'), fc.option(fc.jsonValue()))
      .map(([key, value]) => {
        const changed: Record<string, unknown> = { ...claims };
        if (value === null) delete changed[key];
        else Object.defineProperty(changed, key, { value, enumerable: true });
        return `${header}.${encode(changed)}.${signature}`;
      }),
    // A header of another algorithm, key or type, the signature kept.
    fc
      .record(
        {
          alg: fc.constantFrom('none', 'None', 'HS256', 'RS256', 'ES256', 'EdDSA', 'PS256', 'rs256', ''),
          kid: fc.oneof(fc.constant(joseHeader['kid']), fc.string(), fc.constant('__proto__')),
          typ: fc.constantFrom('at+jwt', 'JWT', 'at+JWT', undefined),
          jwk: fc.option(fc.jsonValue(), { nil: undefined }),
        },
        { requiredKeys: ['alg'] },
      )
      .map((fields) => `${encode(fields)}.${payload}.${signature}`),
    // The same JSON with other bytes (spacing, key order): a new signing input.
    fc.constantFrom(
      `${Buffer.from(JSON.stringify(joseHeader, null, 1)).toString('base64url')}.${payload}.${signature}`,
      `${header}.${encode(Object.fromEntries(Object.entries(claims).reverse()))}.${signature}`,
      `${header}.${payload}`,
      `${header}.${payload}.`,
      `${header}.${payload}.${signature}.${signature}`,
      `${payload}.${header}.${signature}`,
      `${header}.${payload}.${signature}=`,
      `${header}=.${payload}.${signature}`,
    ),
    // Random JSON header and payload with the real signature, or random text.
    fc.tuple(fc.jsonValue(), fc.jsonValue()).map(([h, p]) => `${encode(h)}.${encode(p)}.${signature}`),
    fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), maxLength: 200 }),
  );
}

describe('mutated access tokens never authenticate', () => {
  let server: TestServer;
  let user: LoggedIn;
  let verifier: Verifier;
  before(async () => {
    server = await startServer({ TESSERA_IP_RATE_LIMIT: '1000000' });
    user = await signupAndLogin(server);
    verifier = createVerifier({
      issuer: 'http://tessera.test',
      audience: 'http://tessera.test',
      jwksUrl: `${server.url}/.well-known/jwks.json`,
      now: server.clock.now,
    });
  });
  after(async () => {
    await verifier.close();
    await server.close();
  });

  /** Resolves for the untouched token only; anything else rejects with a token failure code. */
  async function assertOnlyOriginal(
    check: (token: string) => Promise<unknown>,
    token: string,
  ): Promise<void> {
    try {
      await check(token);
    } catch (error) {
      assert.ok(error instanceof TesseraError, `not a TesseraError: ${String(error)}`);
      assert.ok(TOKEN_FAILURES.has(error.code), `code ${error.code}`);
      return;
    }
    assert.equal(token, user.accessToken, 'a changed token authenticated');
  }

  test('sessions.authenticate', async () => {
    const sessions = server.app.tessera.sessions;
    await assertOnlyOriginal((token) => sessions.authenticate(token, server.clock.now()), user.accessToken);
    await fc.assert(
      fc.asyncProperty(mutations(user.accessToken), (token) =>
        assertOnlyOriginal((candidate) => sessions.authenticate(candidate, server.clock.now()), token),
      ),
      { numRuns: 1500 },
    );
  });

  test('the verifier library', async () => {
    await fc.assert(
      fc.asyncProperty(mutations(user.accessToken), (token) =>
        assertOnlyOriginal((candidate) => verifier.verify(candidate), token),
      ),
      { numRuns: 500 },
    );
  });

  test('GET /auth/me: 400 or 401, never 500, never 200 but for the untouched token', async () => {
    await fc.assert(
      fc.asyncProperty(mutations(user.accessToken), async (token) => {
        const reply = await call(server, 'GET', '/auth/me', { token });
        // `Bearer` takes 1*SP before the token and HTTP drops trailing whitespace (RFC 6750 §2.1;
        // ATTACKS HTTP-03), so spaces around the untouched token still carry the untouched token.
        if (token.trim() === user.accessToken && !/^\s*\t/.test(token))
          assert.equal(reply.status, 200, reply.text);
        else assert.ok([400, 401].includes(reply.status), `${reply.status} ${reply.text}`);
      }),
      { numRuns: 500 },
    );
  });
});

describe('random JSON bodies never produce a 500', () => {
  let server: TestServer;
  let user: LoggedIn;
  let routes: Array<{ method: string; path: string }>;
  before(async () => {
    server = await startServer({ TESSERA_IP_RATE_LIMIT: '1000000', TESSERA_LOGIN_MAX_FAILURES: '1000000' });
    user = await signupAndLogin(server);
    const doc = (await call(server, 'GET', '/docs/json')).body as unknown as {
      paths: Record<string, Record<string, unknown>>;
    };
    routes = Object.entries(doc.paths)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => ({ method, path })))
      // A stream never ends, so `inject` would wait forever; its input is the query, fuzzed below.
      .filter(({ path }) => path !== '/auth/revocations/stream')
      // Logouts last: they revoke the session the other routes are called with.
      .sort((a, b) => Number(a.path.startsWith('/auth/logout')) - Number(b.path.startsWith('/auth/logout')));
  });
  after(() => server.close());

  const fields = fc.constantFrom(
    'email',
    'password',
    'name',
    'remember',
    'cookie',
    'refreshToken',
    'currentPassword',
    'newPassword',
    '__proto__',
    'constructor',
  );
  /** Mostly objects with the API's own field names (to get past the first check), some anything. */
  const bodies = fc.oneof(
    { weight: 3, arbitrary: fc.dictionary(fields, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );

  test('every documented route, with and without an access token', async () => {
    assert.ok(routes.length >= 15);
    for (const { method, path } of routes) {
      await fc.assert(
        fc.asyncProperty(
          bodies,
          fc.boolean(),
          fc.string({ maxLength: 40 }),
          fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
          async (body, authenticated, id, since) => {
            const query = since === undefined ? '' : `?since=${encodeURIComponent(since)}`;
            const url = path.replace('{id}', encodeURIComponent(id || 'x')) + query;
            const verb = method.toUpperCase();
            const reply = await call(server, verb, url, {
              ...(authenticated ? { token: user.accessToken } : {}),
              // A GET has no body; its input is the query and the path.
              ...(verb === 'GET' ? {} : { body }),
            });
            assert.ok(
              reply.status < 500,
              `${verb} ${url} ${JSON.stringify(body)} → ${reply.status} ${reply.text}`,
            );
          },
        ),
        { numRuns: 100 },
      );
    }
  });
});
