import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRefused } from './helpers/assertions.ts';
import { call, decodePayload, signupAndLogin, startServer, type TestServer } from './helpers/test-server.ts';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => server.close());

test('the demo page is served at / under a strict CSP, with the SDK as JavaScript', async () => {
  const page = await fetch(`${server.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const html = await page.text();
  for (const label of ['Email', 'Password'])
    assert.match(html, new RegExp(`<label for="[a-z]+">${label}</label>`));
  assert.match(html, /<script type="importmap">/);

  const sdk = await fetch(`${server.url}/sdk/client.ts`);
  assert.equal(sdk.status, 200);
  assert.match(sdk.headers.get('content-type') ?? '', /^text\/javascript/);
  const source = await sdk.text();
  assert.doesNotMatch(source, /:\s*(string|number|boolean)\s*[;,)=]/, 'type annotations stripped');
  assert.match(source, /export class TesseraClient/);
});

test('only files of the three folders are served: no paths, no traversal', async () => {
  for (const path of [
    '/sdk/../../package.json',
    '/sdk/%2e%2e%2fpackage.json',
    '/demo/..%2F..%2Fapp.ts',
    '/sdk/nope.ts',
    '/protocol/index.d.ts',
    '/etc/passwd',
  ]) {
    const reply = await call(server, 'GET', path);
    assert.equal(reply.status, 404, path);
  }
});

test('GET /auth/token shows the verified token’s header and claims, never the token', async () => {
  const session = await signupAndLogin(server);
  const reply = await call(server, 'GET', '/auth/token', { token: session.accessToken });
  assert.equal(reply.status, 200, reply.text);
  assert.deepEqual(reply.body['claims'], decodePayload(session.accessToken));
  assert.deepEqual(Object.keys(reply.body['header'] as object).sort(), ['alg', 'kid', 'typ']);
  assert.ok(!reply.text.includes(session.accessToken.split('.')[2] ?? '@'), 'no signature in the answer');
  assertRefused(await call(server, 'GET', '/auth/token'), 401, 'invalid_token');
});
