import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createVerifier, type Verifier } from '@tessera/verifier';
import {
  call,
  signupAndLogin,
  startServer,
  type TestServer,
} from '../../../packages/server/test/helpers/test-server.ts';
import { buildNotesService } from '../src/app.ts';

describe('the notes service, protected by @tessera/verifier', () => {
  let tessera: TestServer;
  let verifier: Verifier;
  let notes: FastifyInstance;
  let url: string;

  before(async () => {
    tessera = await startServer();
    const { issuer, audience } = tessera.app.tessera.config;
    verifier = createVerifier({
      issuer,
      audience,
      jwksUrl: `${tessera.url}/.well-known/jwks.json`,
      revocations: { url: `${tessera.url}/auth/revocations` },
      now: tessera.clock.now,
    });
    notes = await buildNotesService(verifier);
    await notes.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(notes.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await notes.close();
    await verifier.close();
    await tessera.close();
  });

  test('a valid token reads and writes its own notes only', async () => {
    const alice = await signupAndLogin(tessera);
    const bob = await signupAndLogin(tessera);
    const added = await call({ url }, 'POST', '/notes', {
      token: alice.accessToken,
      body: { text: 'buy milk' },
    });
    assert.equal(added.status, 201, added.text);
    assert.deepEqual((await call({ url }, 'GET', '/notes', { token: alice.accessToken })).body, [
      { id: 1, text: 'buy milk' },
    ]);
    assert.deepEqual((await call({ url }, 'GET', '/notes', { token: bob.accessToken })).body, []);
  });

  test('no token: 401 with a Bearer challenge', async () => {
    const reply = await call({ url }, 'GET', '/notes');
    assert.equal(reply.status, 401);
    assert.equal(reply.headers.get('www-authenticate'), 'Bearer realm="tessera"');
  });

  test('after logout at Tessera, the token is refused here too', async () => {
    const session = await signupAndLogin(tessera);
    assert.equal((await call({ url }, 'GET', '/notes', { token: session.accessToken })).status, 200);
    await call(tessera, 'POST', '/auth/logout', { token: session.accessToken });
    const deadline = Date.now() + 3000;
    let reply = await call({ url }, 'GET', '/notes', { token: session.accessToken });
    while (reply.status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      reply = await call({ url }, 'GET', '/notes', { token: session.accessToken });
    }
    assert.equal(reply.status, 401, reply.text);
    assert.equal(reply.body['error'], 'token_revoked');
  });
});
