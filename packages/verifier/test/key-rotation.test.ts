import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import {
  decodeHeader,
  decodePayload,
  signupAndLogin,
  startServer,
  type TestServer,
} from '../../server/test/helpers/test-server.ts';
import type { Verifier } from '../src/index.ts';
import { startProxy, type Proxy } from './helpers/proxy.ts';
import { outcomeOf, verifierFor } from './helpers/verifier-setup.ts';

const JWKS_PATH = '/.well-known/jwks.json';
const COOLDOWN_S = 30;

/**
 * Key rotation and the JWKS cache (issue 4, ATTACKS KID-04, KID-08), with the JWKS fetches
 * counted by a proxy between the verifier and the server, and time moved on the fake clock.
 */
describe('key rotation seen by a running verifier', () => {
  let server: TestServer;
  let proxy: Proxy;
  let verifier: Verifier;

  before(async () => {
    server = await startServer({ TESSERA_SIGNING_ALG: 'EdDSA' });
    proxy = await startProxy(server.url);
    verifier = verifierFor(server, { via: proxy.url, jwksCooldown: COOLDOWN_S });
  });
  after(async () => {
    await verifier.close();
    await proxy.close();
    await server.close();
  });

  /** A token signed with the server's current key but naming another kid. */
  const withKid = async (token: string, kid: string) => {
    const key = server.app.tessera.keyring.signingKey(server.clock.now());
    return new SignJWT(decodePayload(token))
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .sign(key.privateKey);
  };

  test('the JWKS is fetched once, then served from the cache', async () => {
    const session = await signupAndLogin(server);
    for (let i = 0; i < 20; i++) assert.equal(await outcomeOf(verifier, session.accessToken), 'accepted');
    assert.equal(proxy.hits(JWKS_PATH), 1);
  });

  test('random unknown kids cause at most one fetch per cooldown', async () => {
    const session = await signupAndLogin(server);
    const before = proxy.hits(JWKS_PATH);
    server.clock.advanceSeconds(COOLDOWN_S); // the first miss may fetch
    for (let i = 0; i < 50; i++) {
      const token = await withKid(session.accessToken, randomBytes(12).toString('base64url'));
      assert.equal(await outcomeOf(verifier, token), 'invalid_token');
    }
    assert.equal(proxy.hits(JWKS_PATH) - before, 1, 'one fetch for 50 unknown kids');
    server.clock.advanceSeconds(COOLDOWN_S - 1);
    for (let i = 0; i < 20; i++) {
      await outcomeOf(verifier, await withKid(session.accessToken, randomBytes(12).toString('base64url')));
    }
    assert.equal(proxy.hits(JWKS_PATH) - before, 1, 'still one, inside the cooldown');
    // A valid token is unaffected by the attack.
    assert.equal(await outcomeOf(verifier, session.accessToken), 'accepted');
  });

  test('after a rotation the new kid verifies without a restart; old tokens until they expire', async () => {
    const old = await signupAndLogin(server);
    const oldKid = decodeHeader(old.accessToken)['kid'];
    const { keyring, config } = server.app.tessera;
    await keyring.rotate(server.clock.now(), server.clock.now()); // `tessera keys rotate --now`
    server.clock.advanceSeconds(COOLDOWN_S);
    const fresh = await signupAndLogin(server);
    assert.notEqual(decodeHeader(fresh.accessToken)['kid'], oldKid, 'the new key signs');
    assert.equal(await outcomeOf(verifier, fresh.accessToken), 'accepted');
    assert.equal(await outcomeOf(verifier, old.accessToken), 'accepted', 'the old key is still published');
    server.clock.advanceSeconds(config.accessTtl + config.clockSkew);
    assert.equal(await outcomeOf(verifier, old.accessToken), 'token_expired');
  });

  test('a rotation published ahead is picked up when the cached JWKS expires', async () => {
    const { keyring } = server.app.tessera;
    const activatesAt = server.clock.now() + 300_000; // `tessera keys rotate`: signs after max-age
    const next = await keyring.rotate(server.clock.now(), activatesAt);
    const before = proxy.hits(JWKS_PATH);
    server.clock.advance(300_000);
    const session = await signupAndLogin(server);
    assert.equal(decodeHeader(session.accessToken)['kid'], next.kid);
    assert.equal(await outcomeOf(verifier, session.accessToken), 'accepted');
    assert.ok(proxy.hits(JWKS_PATH) - before <= 2, 'a refresh, not a fetch per token');
  });

  test('a key rotated in while a background JWKS refresh is in flight is fetched, not refused', async () => {
    const session = await signupAndLogin(server);
    assert.equal(await outcomeOf(verifier, session.accessToken), 'accepted');
    server.clock.advanceSeconds(600); // past max-age: the next use refreshes in the background
    const release = proxy.holdResponses(JWKS_PATH);
    const before = proxy.hits(JWKS_PATH);
    assert.equal(await outcomeOf(verifier, session.accessToken), 'accepted', 'served from the cache');
    while (proxy.hits(JWKS_PATH) === before) await new Promise((resolve) => setImmediate(resolve));
    // The refresh has reached the server and its answer (without the next key) is on its way.
    await server.app.tessera.keyring.rotate(server.clock.now(), server.clock.now());
    const fresh = await signupAndLogin(server);
    const outcome = outcomeOf(verifier, fresh.accessToken);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    assert.equal(await outcome, 'accepted');
    assert.equal(proxy.hits(JWKS_PATH) - before, 2, 'the stale answer, then one fetch for the new kid');
  });

  test('the last good key set keeps serving while the server is unreachable', async () => {
    const session = await signupAndLogin(server);
    assert.equal(await outcomeOf(verifier, session.accessToken), 'accepted');
    proxy.setTarget(null);
    server.clock.advanceSeconds(600); // past max-age: refreshes are attempted, and fail
    for (let i = 0; i < 3; i++) assert.equal(await outcomeOf(verifier, session.accessToken), 'accepted');
    proxy.setTarget(server.url);
  });
});
