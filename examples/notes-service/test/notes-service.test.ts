import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createVerifier, type Verifier } from '@tessera/verifier';
import { buildNotesService } from '../src/app.ts';

/**
 * Runs against a real Tessera server, as your own service's tests would:
 *
 *   TESSERA_URL=http://localhost:8080 npm test
 *
 * TESSERA_ISSUER defaults to TESSERA_URL (as the server's own default issuer does).
 */
const tesseraUrl = process.env['TESSERA_URL'] ?? '';
if (!tesseraUrl) throw new Error('Set TESSERA_URL to a running Tessera server (npx tessera serve)');
const issuer = process.env['TESSERA_ISSUER'] ?? tesseraUrl;

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(
  base: string,
  method: string,
  path: string,
  init: { token?: string; body?: unknown } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (init.token) headers['authorization'] = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** A new account at Tessera, logged in: its access token. */
async function newUser(): Promise<string> {
  const email = `notes-${Date.now()}-${Math.random().toString(36).slice(2)}@example.test`;
  const password = 'a long passphrase for the notes example';
  assert.equal((await call(tesseraUrl, 'POST', '/auth/signup', { body: { email, password } })).status, 201);
  const login = await call(tesseraUrl, 'POST', '/auth/login', { body: { email, password } });
  assert.equal(login.status, 200);
  return String(login.body['accessToken']);
}

describe('the notes service, protected by @tessera/verifier', () => {
  let verifier: Verifier;
  let notes: FastifyInstance;
  let url: string;

  before(async () => {
    verifier = createVerifier({
      issuer,
      audience: process.env['TESSERA_AUDIENCE'] ?? issuer,
      jwksUrl: `${tesseraUrl}/.well-known/jwks.json`,
      revocations: { url: `${tesseraUrl}/auth/revocations` },
    });
    notes = await buildNotesService(verifier);
    await notes.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(notes.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await notes.close();
    await verifier.close();
  });

  test('a valid token reads and writes its own notes only', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const added = await call(url, 'POST', '/notes', { token: alice, body: { text: 'buy milk' } });
    assert.equal(added.status, 201);
    assert.deepEqual((await call(url, 'GET', '/notes', { token: alice })).body, [
      { id: 1, text: 'buy milk' },
    ]);
    assert.deepEqual((await call(url, 'GET', '/notes', { token: bob })).body, []);
  });

  test('no token: 401 with a Bearer challenge', async () => {
    const reply = await call(url, 'GET', '/notes');
    assert.equal(reply.status, 401);
    assert.equal(reply.headers.get('www-authenticate'), 'Bearer realm="tessera"');
  });

  test('after logout at Tessera, the token is refused here too', async () => {
    const token = await newUser();
    assert.equal((await call(url, 'GET', '/notes', { token })).status, 200);
    await call(tesseraUrl, 'POST', '/auth/logout', { token });
    const deadline = Date.now() + 3000;
    let reply = await call(url, 'GET', '/notes', { token });
    while (reply.status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      reply = await call(url, 'GET', '/notes', { token });
    }
    assert.equal(reply.status, 401);
    assert.equal(reply.body['error'], 'token_revoked');
  });
});
