import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { signupAndLogin, startServer, type TestServer } from '../../server/test/helpers/test-server.ts';
import { authenticate } from '../src/http/authenticate.ts';
import type { Verifier } from '../src/index.ts';
import { verifierFor } from './helpers/verifier-setup.ts';

// Step-up (RFC 9470) with a real token of a password login: `amr` is ["pwd"], `auth_time` the login.
let server: TestServer;
let verifier: Verifier;
before(async () => {
  server = await startServer();
  verifier = verifierFor(server);
});
after(async () => {
  await verifier.close();
  await server.close();
});

const request = (token: string) => ({ authorization: [`Bearer ${token}`], queryToken: false });

test('a route that needs a second factor refuses a password-only sign-in, with the RFC 9470 challenge', async () => {
  const { accessToken } = await signupAndLogin(server);
  const now = () => server.clock.now();
  const ok = await authenticate(request(accessToken), { verifier, now, amr: ['pwd'] });
  assert.equal(ok.ok, true);
  const refused = await authenticate(request(accessToken), { verifier, now, amr: ['mfa'] });
  assert.equal(refused.ok, false);
  if (refused.ok) return;
  assert.equal(refused.response.status, 401);
  assert.equal(refused.response.body.error, 'insufficient_user_authentication');
  assert.match(
    refused.response.headers['www-authenticate']!,
    /^Bearer realm="tessera", error="insufficient_user_authentication", error_description="[^"]*mfa[^"]*"$/,
  );
});

test('a route that needs a recent sign-in refuses an older one and says how recent (max_age)', async () => {
  const { accessToken } = await signupAndLogin(server);
  const now = () => server.clock.now();
  assert.equal((await authenticate(request(accessToken), { verifier, now, maxAge: 300 })).ok, true);
  server.clock.advanceSeconds(301);
  const refused = await authenticate(request(accessToken), { verifier, now, maxAge: 300 });
  assert.equal(refused.ok, false);
  if (refused.ok) return;
  assert.equal(refused.response.body.error, 'insufficient_user_authentication');
  assert.match(refused.response.headers['www-authenticate']!, /, max_age="300"$/);
  // The token itself is still good for what asks nothing more.
  assert.equal((await authenticate(request(accessToken), { verifier, now })).ok, true);
});
