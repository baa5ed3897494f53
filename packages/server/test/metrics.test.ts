import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  call,
  login,
  PASSWORD,
  signupAndLogin,
  startServer,
  type TestServer,
} from './helpers/test-server.ts';

/** The value of one series in a Prometheus text exposition, or `undefined` when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',').filter(Boolean);
    if (wanted.every((label) => present.includes(label)) && present.length === wanted.length) {
      return Number(match[3]);
    }
  }
  return undefined;
}

async function scrape(server: TestServer): Promise<string> {
  const reply = await call(server, 'GET', '/metrics');
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return reply.text;
}

describe('GET /metrics', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ TESSERA_LOGIN_MAX_FAILURES: '2', TESSERA_REUSE_GRACE: '10s' });
  });
  after(() => server.close());

  test('logins by outcome, and 429s by the limit that refused them', async () => {
    const user = await signupAndLogin(server);
    await call(server, 'POST', '/auth/login', { body: { email: user.email, password: 'not the password' } });
    await call(server, 'POST', '/auth/login', { body: { email: user.email, password: 'not the password' } });
    const limited = await call(server, 'POST', '/auth/login', {
      body: { email: user.email, password: PASSWORD },
    });
    assert.equal(limited.status, 429);
    const text = await scrape(server);
    assert.equal(sample(text, 'tessera_logins_total', { outcome: 'success' }), 1);
    assert.equal(sample(text, 'tessera_logins_total', { outcome: 'invalid_credentials' }), 2);
    assert.equal(sample(text, 'tessera_logins_total', { outcome: 'rate_limited' }), 1);
    assert.equal(sample(text, 'tessera_rate_limit_hits_total', { limit: 'login' }), 1);
    assert.equal(sample(text, 'tessera_rate_limit_hits_total', { limit: 'address' }), 0);
  });

  test('refreshes by outcome, reuse detections and revocations by reason', async () => {
    const before = await scrape(server);
    const count = (text: string, name: string, labels: Record<string, string>) =>
      (sample(text, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);

    const user = await signupAndLogin(server);
    const first = await call(server, 'POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } });
    assert.equal(first.status, 200);
    assert.equal(
      (await call(server, 'POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } })).status,
      200,
      'grace',
    );
    server.clock.advanceSeconds(11);
    const reused = await call(server, 'POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } });
    assert.equal(reused.body['error'], 'refresh_token_reused');
    await call(server, 'POST', '/auth/refresh', { body: { refreshToken: 'tsr1_not-a-token' } });

    const other = await login(server, user.email);
    await call(server, 'POST', '/auth/logout', { token: other.accessToken });
    const third = await login(server, user.email);
    await login(server, user.email);
    assert.equal((await call(server, 'POST', '/auth/logout-all', { token: third.accessToken })).status, 204);
    const expiring = await login(server, user.email);
    server.clock.advanceSeconds(8 * 24 * 3600);
    const expired = await call(server, 'POST', '/auth/refresh', {
      body: { refreshToken: expiring.refreshToken },
    });
    assert.equal(expired.body['error'], 'session_expired');

    const text = await scrape(server);
    const refreshes = (outcome: string) => count(text, 'tessera_refreshes_total', { outcome });
    assert.deepEqual(
      ['rotated', 'grace', 'reused', 'invalid_grant', 'session_expired'].map(refreshes),
      [1, 1, 1, 1, 1],
    );
    assert.equal(count(text, 'tessera_refresh_reuse_detected_total', { reason: 'reuse_detected' }), 1);
    const revoked = (reason: string) => count(text, 'tessera_sessions_revoked_total', { reason });
    assert.equal(revoked('reuse_detected'), 1);
    assert.equal(revoked('logout'), 1);
    assert.equal(revoked('logout_all'), 2, 'the two sessions still live');
  });

  test('request latency is labelled by route pattern, never by the raw URL', async () => {
    const user = await signupAndLogin(server);
    const id = '3f1e0c9a-not-a-session';
    assert.equal(
      (await call(server, 'DELETE', `/auth/sessions/${id}`, { token: user.accessToken })).status,
      404,
    );
    await call(server, 'GET', '/no/such/path/with-a-random-part');
    const text = await scrape(server);
    const labels = { method: 'DELETE', route: '/auth/sessions/:id', status_code: '404' };
    assert.equal(sample(text, 'tessera_http_request_duration_seconds_count', labels), 1);
    assert.ok(
      (sample(text, 'tessera_http_request_duration_seconds_count', {
        method: 'GET',
        route: 'unmatched',
        status_code: '404',
      }) ?? 0) >= 1,
    );
    assert.ok(!text.includes(id) && !text.includes('with-a-random-part'), 'no raw path reaches a label');
  });

  test('key age counts from the activation of the key that signs', async () => {
    const age = sample(await scrape(server), 'tessera_signing_key_age_seconds');
    server.clock.advanceSeconds(90);
    assert.equal(sample(await scrape(server), 'tessera_signing_key_age_seconds'), (age ?? 0) + 90);
  });

  test('a store failure is counted as a store error (503)', async () => {
    const broken = await startServer();
    try {
      await broken.store.close();
      assert.equal((await call(broken, 'GET', '/readyz')).status, 503);
      assert.equal(sample(await scrape(broken), 'tessera_store_errors_total'), 1);
    } finally {
      await broken.close();
    }
  });

  test('each app has a registry of its own', async () => {
    const fresh = await startServer();
    try {
      assert.equal(sample(await scrape(fresh), 'tessera_logins_total', { outcome: 'success' }), 0);
      assert.ok((sample(await scrape(server), 'tessera_logins_total', { outcome: 'success' }) ?? 0) > 0);
    } finally {
      await fresh.close();
    }
  });
});
