import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { assertRefused, assertTokenRefused } from './helpers/assertions.ts';
import {
  call,
  decodePayload,
  login,
  signupAndLogin,
  startServer,
  uniqueEmail,
  type TestServer,
} from './helpers/test-server.ts';

async function refresh(server: TestServer, refreshToken: unknown) {
  return call(server, 'POST', '/auth/refresh', { body: { refreshToken } });
}

/** Rows of the session's refresh-token family, straight from the SQLite file (white box, RT-13). */
function familyRows(server: TestServer, sessionId: string): Array<Record<string, unknown>> {
  const db = new DatabaseSync(join(server.dir, 'tessera.db'), { readOnly: true });
  try {
    return db.prepare('SELECT * FROM refresh_tokens WHERE session_id = ?').all(sessionId);
  } finally {
    db.close();
  }
}

describe('refresh rotation', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => server.close());

  test('each refresh rotates: a new refresh token and a new access token that works (RT-01)', async () => {
    const session = await signupAndLogin(server);
    server.clock.advanceSeconds(60);
    const first = await refresh(server, session.refreshToken);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get('cache-control'), 'no-store');
    const rt2 = String(first.body['refreshToken']);
    assert.notEqual(rt2, session.refreshToken);
    assert.notEqual(first.body['accessToken'], session.accessToken);
    assert.equal(decodePayload(String(first.body['accessToken']))['sid'], session.sessionId, 'same session');
    const me = await call(server, 'GET', '/auth/me', { token: String(first.body['accessToken']) });
    assert.equal(me.status, 200);
    server.clock.advanceSeconds(60);
    const second = await refresh(server, rt2);
    assert.equal(second.status, 200, second.text);
    assert.notEqual(second.body['refreshToken'], rt2);
  });

  test('the database keeps only hashes of refresh tokens, with family links (RT-13)', async () => {
    const session = await signupAndLogin(server);
    const rotated = await refresh(server, session.refreshToken);
    const rows = familyRows(server, session.sessionId);
    assert.equal(rows.length, 2);
    const dump = JSON.stringify(rows);
    assert.ok(!dump.includes(session.refreshToken), 'first token not stored');
    assert.ok(!dump.includes(String(rotated.body['refreshToken'])), 'successor not stored');
    assert.ok(!dump.includes(session.refreshToken.slice(5)), 'not even its random part');
    assert.equal(rows.filter((row) => row['consumed_at'] === null).length, 1, 'one live token');
    assert.ok(rows.some((row) => row['parent_hash'] !== null));
  });

  test('replaying a consumed token after the grace window revokes the whole family (RT-02)', async () => {
    const session = await signupAndLogin(server);
    let current = session.refreshToken;
    const chain = [current];
    let latestAccess = session.accessToken;
    for (let i = 0; i < 3; i++) {
      server.clock.advanceSeconds(30);
      const reply = await refresh(server, current);
      assert.equal(reply.status, 200, reply.text);
      current = String(reply.body['refreshToken']);
      latestAccess = String(reply.body['accessToken']);
      chain.push(current);
    }
    server.clock.advanceSeconds(11);
    assertRefused(await refresh(server, chain[0]), 401, 'refresh_token_reused');
    // The newest token is dead too: the attacker's branch and the victim's both end.
    assertRefused(await refresh(server, current), 401, 'invalid_grant', 'newest token after reuse');
    // And so are the session's access tokens, at once.
    assertTokenRefused(await call(server, 'GET', '/auth/me', { token: latestAccess }), 'token_revoked');
    assertTokenRefused(
      await call(server, 'GET', '/auth/me', { token: session.accessToken }),
      'token_revoked',
    );
  });

  test('within the grace window the predecessor gets the current token back, not a revocation (RT-04)', async () => {
    const session = await signupAndLogin(server);
    const first = await refresh(server, session.refreshToken);
    assert.equal(first.status, 200);
    server.clock.advanceSeconds(9);
    const retry = await refresh(server, session.refreshToken);
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.body['refreshToken'], first.body['refreshToken'], 'same current refresh token');
    assert.notEqual(retry.body['accessToken'], first.body['accessToken'], 'a fresh access token');
    assert.equal(
      (await call(server, 'GET', '/auth/me', { token: String(retry.body['accessToken']) })).status,
      200,
    );
    // The session goes on normally from the current token.
    const next = await refresh(server, String(first.body['refreshToken']));
    assert.equal(next.status, 200, next.text);
  });

  test('only the immediate predecessor gets grace: an older token is reuse even within the window', async () => {
    const session = await signupAndLogin(server);
    const first = await refresh(server, session.refreshToken);
    const second = await refresh(server, String(first.body['refreshToken']));
    assert.equal(second.status, 200);
    assertRefused(await refresh(server, session.refreshToken), 401, 'refresh_token_reused');
    assertRefused(await refresh(server, String(second.body['refreshToken'])), 401, 'invalid_grant');
  });

  test('20 concurrent refreshes of one token leave exactly one live successor (RT-03)', async () => {
    const session = await signupAndLogin(server);
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => refresh(server, session.refreshToken)),
    );
    assert.ok(
      replies.every((reply) => reply.status === 200),
      replies.map((reply) => reply.status).join(','),
    );
    const tokens = new Set(replies.map((reply) => reply.body['refreshToken']));
    assert.equal(tokens.size, 1, 'every caller got the same successor');
    const rows = familyRows(server, session.sessionId);
    assert.equal(rows.length, 2, 'one successor row');
    assert.equal(rows.filter((row) => row['consumed_at'] === null).length, 1);
    assert.equal((await refresh(server, [...tokens][0])).status, 200);
  });

  test('two sessions are two families: reuse in one leaves the other alone (RT-15)', async () => {
    const a = await signupAndLogin(server);
    const b = await login(server, a.email);
    await refresh(server, a.refreshToken);
    server.clock.advanceSeconds(11);
    assertRefused(await refresh(server, a.refreshToken), 401, 'refresh_token_reused');
    assert.equal((await call(server, 'GET', '/auth/me', { token: b.accessToken })).status, 200);
    assert.equal((await refresh(server, b.refreshToken)).status, 200);
  });

  test('malformed refresh input: 400 for wrong types, 401 invalid_grant for wrong tokens (RT-11)', async () => {
    const session = await signupAndLogin(server);
    for (const refreshToken of [null, 123, [], {}, true]) {
      assertRefused(
        await refresh(server, refreshToken),
        400,
        'invalid_request',
        JSON.stringify(refreshToken),
      );
    }
    assertRefused(
      await call(server, 'POST', '/auth/refresh', { body: {} }),
      400,
      'invalid_request',
      'missing',
    );
    assertRefused(await refresh(server, ''), 400, 'invalid_request', 'empty');
    const flipped = session.refreshToken.slice(0, -1) + (session.refreshToken.endsWith('A') ? 'B' : 'A');
    for (const refreshToken of [
      "' OR 1=1 --",
      'tsr1_short',
      flipped,
      session.accessToken.slice(0, 500),
      'tsr2_' + 'a'.repeat(43),
    ]) {
      assertRefused(await refresh(server, refreshToken), 401, 'invalid_grant', refreshToken.slice(0, 20));
    }
    // Nothing above disturbed the real session (persistence check).
    assert.equal((await refresh(server, session.refreshToken)).status, 200);
  });

  test('refresh token only by POST body: never from the URL (RT-14)', async () => {
    const session = await signupAndLogin(server);
    const reply = await call(server, 'GET', `/auth/refresh?refreshToken=${session.refreshToken}`);
    assertRefused(reply, 405, 'invalid_request');
    assert.equal(reply.headers.get('allow'), 'POST');
  });
});

describe('session lifetimes', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      TESSERA_REFRESH_TTL: '1h',
      TESSERA_SESSION_MAX_AGE: '3h',
      TESSERA_ACCESS_TTL: '5m',
    });
  });
  after(async () => server.close());

  test('idle lifetime: unused past TESSERA_REFRESH_TTL → session_expired (RT-12)', async () => {
    const session = await signupAndLogin(server);
    server.clock.advanceSeconds(3600 + 1);
    assertRefused(await refresh(server, session.refreshToken), 401, 'session_expired');
  });

  test('idle lifetime renews on each refresh, but never past the absolute lifetime (RT-12)', async () => {
    const session = await signupAndLogin(server);
    let token = session.refreshToken;
    // 50 minutes between refreshes keeps it alive: 2 h 30 min of activity.
    for (let i = 0; i < 3; i++) {
      server.clock.advanceSeconds(50 * 60);
      const reply = await refresh(server, token);
      assert.equal(reply.status, 200, `refresh ${i}: ${reply.text}`);
      token = String(reply.body['refreshToken']);
      if (i === 2) assert.equal(reply.body['refreshExpiresIn'], 30 * 60, 'capped by the absolute end');
    }
    server.clock.advanceSeconds(30 * 60 + 1);
    assertRefused(await refresh(server, token), 401, 'session_expired', 'past 3 h despite activity');
  });

  test('remember: false issues no refresh token; the session lasts one access lifetime', async () => {
    const email = uniqueEmail();
    await call(server, 'POST', '/auth/signup', { body: { email, password: 'correct horse battery staple' } });
    const reply = await call(server, 'POST', '/auth/login', {
      body: { email, password: 'correct horse battery staple', remember: false },
    });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body['refreshToken'], undefined);
    assert.equal(reply.body['refreshExpiresIn'], undefined);
    assert.equal(reply.body['expiresIn'], 300);
    const token = String(reply.body['accessToken']);
    const sessions = await call(server, 'GET', '/auth/sessions', { token });
    assert.equal(sessions.body.length, 1);
    assert.equal(Date.parse(String(sessions.body[0]?.['expiresAt'])), server.clock.now() + 300_000);
    server.clock.advanceSeconds(300 + 31);
    assertTokenRefused(await call(server, 'GET', '/auth/me', { token }), 'token_expired');
  });
});

describe('early-refresh policy', () => {
  test('TESSERA_EARLY_REFRESH=revoke: a refresh while the access token is still valid is theft', async () => {
    const server = await startServer({ TESSERA_EARLY_REFRESH: 'revoke' });
    try {
      const session = await signupAndLogin(server);
      server.clock.advanceSeconds(60);
      assertRefused(await refresh(server, session.refreshToken), 401, 'refresh_token_reused');
      assertTokenRefused(
        await call(server, 'GET', '/auth/me', { token: session.accessToken }),
        'token_revoked',
      );

      const patient = await signupAndLogin(server);
      // Within the 30 s leeway of expiry the refresh is expected, not theft.
      server.clock.advanceSeconds(900 - 29);
      const reply = await refresh(server, patient.refreshToken);
      assert.equal(reply.status, 200, reply.text);
    } finally {
      await server.close();
    }
  });

  test('default allow: refreshing early is fine', async () => {
    const server = await startServer();
    try {
      const session = await signupAndLogin(server);
      assert.equal((await refresh(server, session.refreshToken)).status, 200);
    } finally {
      await server.close();
    }
  });

  test('TESSERA_REUSE_GRACE=0: any replay is reuse, even immediately', async () => {
    const server = await startServer({ TESSERA_REUSE_GRACE: '0' });
    try {
      const session = await signupAndLogin(server);
      assert.equal((await refresh(server, session.refreshToken)).status, 200);
      assertRefused(await refresh(server, session.refreshToken), 401, 'refresh_token_reused');
    } finally {
      await server.close();
    }
  });
});
