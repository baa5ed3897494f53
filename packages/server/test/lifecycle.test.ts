import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRefused, assertTokenRefused } from './helpers/assertions.ts';
import {
  call,
  decodeHeader,
  decodePayload,
  signupAndLogin,
  startServer,
  uniqueEmail,
  PASSWORD,
  type TestServer,
} from './helpers/test-server.ts';

describe('token lifecycle', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => server.close());

  test('sign up, log in, call /auth/me with the access token', async () => {
    const email = uniqueEmail();
    const signup = await call(server, 'POST', '/auth/signup', {
      body: { email: `  ${email.toUpperCase()} `, password: PASSWORD, name: 'Ada' },
    });
    assert.equal(signup.status, 201, signup.text);
    const user = signup.body['user'] as Record<string, unknown>;
    assert.equal(user['email'], email, 'email stored in canonical form');
    assert.equal(user['name'], 'Ada');
    assert.equal(user['role'], 'user');
    assert.equal(Object.hasOwn(user, 'passwordHash'), false);

    const login = await call(server, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
    assert.equal(login.status, 200, login.text);
    assert.equal(login.headers.get('cache-control'), 'no-store');
    assert.equal(login.body['tokenType'], 'Bearer');
    assert.equal(login.body['expiresIn'], 900);
    assert.equal(login.body['refreshExpiresIn'], 7 * 86400);
    assert.match(String(login.body['refreshToken']), /^tsr1_[A-Za-z0-9_-]{43}$/);
    const token = String(login.body['accessToken']);
    const header = decodeHeader(token);
    assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid', 'typ']);
    assert.equal(header['alg'], 'RS256');
    assert.equal(header['typ'], 'at+jwt');
    const claims = decodePayload(token);
    assert.deepEqual(Object.keys(claims).sort(), [
      'amr',
      'aud',
      'auth_time',
      'exp',
      'iat',
      'iss',
      'jti',
      'nbf',
      'role',
      'scope',
      'sid',
      'sub',
    ]);
    assert.equal(claims['sub'], user['id']);
    assert.equal(claims['iss'], 'http://tessera.test');
    assert.equal(claims['aud'], 'http://tessera.test');
    assert.equal(Number(claims['exp']) - Number(claims['iat']), 900);
    // RFC 8176: a password login; signed in now (OIDC Core §2).
    assert.deepEqual(claims['amr'], ['pwd']);
    assert.equal(claims['auth_time'], claims['iat']);
    assert.ok(Buffer.byteLength(token) < 1024, 'RS256 token under 1 KB');

    const me = await call(server, 'GET', '/auth/me', { token });
    assert.equal(me.status, 200, me.text);
    assert.deepEqual(me.body, user);
  });

  test('no token, or another scheme: 401 with a bare Bearer challenge', async () => {
    for (const headers of [{}, { authorization: 'Basic dXNlcjpwYXNz' }] as Array<Record<string, string>>) {
      const reply = await call(server, 'GET', '/auth/me', { headers });
      assertRefused(reply, 401, 'invalid_token');
      assert.equal(reply.headers.get('www-authenticate'), 'Bearer realm="tessera"');
    }
  });

  test('an expired access token answers token_expired', async () => {
    const session = await signupAndLogin(server);
    server.clock.advanceSeconds(900 + 31);
    const reply = await call(server, 'GET', '/auth/me', { token: session.accessToken });
    assertTokenRefused(reply, 'token_expired');
    assert.equal(reply.body['message'], 'Access token has expired');
  });
});
