import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, runMaintenance } from '../src/index.ts';
import {
  call,
  decodeHeader,
  login,
  signupAndLogin,
  startServer,
  type TestServer,
} from './helpers/test-server.ts';

async function publishedKids(server: TestServer): Promise<string[]> {
  const reply = await call(server, 'GET', '/.well-known/jwks.json');
  return (reply.body['keys'] as unknown as Array<{ kid: string }>).map((key) => key.kid).sort();
}

test('keys rotate on schedule: published a cache time ahead, old tokens valid, old key retired', async () => {
  const server = await startServer({ TESSERA_KEY_ROTATION: '2h', TESSERA_ACCESS_TTL: '15m' });
  try {
    const first = await signupAndLogin(server);
    const firstKid = String(decodeHeader(first.accessToken)['kid']);
    const maintain = () => runMaintenance(server.app.tessera);

    server.clock.advanceSeconds(2 * 3600 - 300 - 1);
    await maintain();
    assert.deepEqual(await publishedKids(server), [firstKid], 'not due yet');

    server.clock.advanceSeconds(2);
    await maintain();
    const kids = await publishedKids(server);
    assert.equal(kids.length, 2, 'the successor is published ahead of use');
    const nextKid = kids.find((kid) => kid !== firstKid) ?? '';
    await maintain();
    assert.equal((await publishedKids(server)).length, 2, 'one successor, not one per pass');

    const beforeSwitch = await login(server, first.email);
    assert.equal(
      decodeHeader(beforeSwitch.accessToken)['kid'],
      firstKid,
      'the old key signs until the cache time passes',
    );

    server.clock.advanceSeconds(301);
    const afterSwitch = await login(server, first.email);
    assert.equal(decodeHeader(afterSwitch.accessToken)['kid'], nextKid);
    assert.equal(
      (await call(server, 'GET', '/auth/me', { token: beforeSwitch.accessToken })).status,
      200,
      'old tokens still verify',
    );

    server.clock.advanceSeconds(15 * 60 + 31);
    await maintain();
    assert.deepEqual(
      await publishedKids(server),
      [nextKid],
      'the old key retires once its tokens have expired',
    );
  } finally {
    await server.close();
  }
});

test('TESSERA_KEY_ROTATION: 30 days by default, 0 turns it off, too short is refused', () => {
  assert.equal(loadConfig({}).keyRotation, 30 * 86400);
  assert.equal(loadConfig({ TESSERA_KEY_ROTATION: '0' }).keyRotation, 0);
  assert.throws(
    () => loadConfig({ TESSERA_KEY_ROTATION: '10m' }),
    (error: unknown) => error instanceof ConfigError && error.variable === 'TESSERA_KEY_ROTATION',
  );
});
