import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signupAndLogin, startServer } from './helpers/test-server.ts';

test('Bearer requests work through Fastify inject too (no headersDistinct there), never a 500', async () => {
  const server = await startServer();
  try {
    const session = await signupAndLogin(server);
    const ok = await server.app.inject({
      method: 'GET',
      url: '/auth/me',
      headers: { authorization: `Bearer ${session.accessToken}` },
    });
    assert.equal(ok.statusCode, 200, ok.body);
    const bad = await server.app.inject({
      method: 'GET',
      url: '/auth/me',
      headers: { authorization: 'Bearer not.a.token' },
    });
    assert.equal(bad.statusCode, 401, bad.body);
  } finally {
    await server.close();
  }
});
