import { after, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertRefused, assertTokenRefused } from './helpers/assertions.ts';
import { cleanup, spawnServer, tempDatabaseUrl, type ServerProcess } from './helpers/server-process.ts';
import { call, decodePayload, PASSWORD, uniqueEmail, type Reply } from './helpers/test-server.ts';

/**
 * Crash durability: a real `tessera serve` process on a real SQLite file is killed with SIGKILL
 * while requests are in flight, then restarted on the same file. Whatever the server acknowledged
 * before the kill must still hold after it (SPEC §2–§3): accounts exist, the refresh chain goes on,
 * and logged-out sessions stay revoked. Requests that were in flight may go either way, but never
 * half-way.
 */

after(cleanup);

/** The TESSERA_* settings of one deployment: a fresh SQLite file that survives its server's restarts. */
function deployment(): Record<string, string> {
  return {
    TESSERA_DATABASE_URL: tempDatabaseUrl('tessera-durability-'),
    TESSERA_ISSUER: 'http://tessera.test',
    // Every request comes from 127.0.0.1: the per-address limit would otherwise cut the traffic.
    TESSERA_IP_RATE_LIMIT: '1000000',
  };
}

/** SIGKILL: no shutdown hook, no checkpoint, no flush; only what was committed survives. */
async function killHard(server: ServerProcess): Promise<void> {
  server.child.kill('SIGKILL');
  const { signal } = await server.exited;
  assert.equal(signal, 'SIGKILL');
}

/** One request; `null` when no answer came back (connection refused or reset by the kill). */
async function attempt(
  server: ServerProcess,
  method: string,
  path: string,
  options: Parameters<typeof call>[3],
): Promise<Reply | null> {
  try {
    return await call(server, method, path, options);
  } catch {
    return null;
  }
}

interface Session {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

async function signup(server: ServerProcess, email: string): Promise<void> {
  const reply = await call(server, 'POST', '/auth/signup', { body: { email, password: PASSWORD } });
  assert.equal(reply.status, 201, reply.text);
}

async function login(server: ServerProcess, email: string): Promise<Session> {
  const reply = await call(server, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
  assert.equal(reply.status, 200, reply.text);
  const accessToken = String(reply.body['accessToken']);
  return {
    accessToken,
    refreshToken: String(reply.body['refreshToken']),
    sessionId: String(decodePayload(accessToken)['sid']),
  };
}

/** Runs `work` over `items` with at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      await work(item as T);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/** A revoked session: its access token answers `token_revoked`, its refresh token `invalid_grant`. */
async function assertRevoked(server: ServerProcess, session: Session, context: string): Promise<void> {
  const me = await call(server, 'GET', '/auth/me', { token: session.accessToken });
  assertTokenRefused(me, 'token_revoked', context);
  const refresh = await call(server, 'POST', '/auth/refresh', {
    body: { refreshToken: session.refreshToken },
  });
  assertRefused(refresh, 401, 'invalid_grant', context);
}

describe('durability across kill -9', () => {
  test('acknowledged sign-ups, refresh rotations and logouts survive a kill mid-traffic', async (t: TestContext) => {
    const env = deployment();
    const first = await spawnServer(env);

    // Set-up, all acknowledged before the traffic starts.
    const chainEmail = uniqueEmail('chain');
    await signup(first, chainEmail);
    const chainStart = await login(first, chainEmail);
    const logoutEmail = uniqueEmail('logout');
    await signup(first, logoutEmail);
    const sessions: Session[] = [];
    for (let i = 0; i < 10; i += 1) sessions.push(await login(first, logoutEmail));

    const killAfterMs = 300 + Math.floor(Math.random() * 600);
    t.diagnostic(`SIGKILL after ${killAfterMs} ms of traffic`);
    let killed = false;

    // (a) Sign-ups, two at a time, at most 30.
    const signedUp: string[] = [];
    let signupsInFlight = 0;
    const signups = pool(
      Array.from({ length: 30 }, () => uniqueEmail('burst')),
      2,
      async (email) => {
        if (killed) return;
        const reply = await attempt(first, 'POST', '/auth/signup', { body: { email, password: PASSWORD } });
        if (reply === null) {
          signupsInFlight += 1;
          return;
        }
        assert.equal(reply.status, 201, `sign-up answered before the kill: ${reply.text}`);
        signedUp.push(email);
      },
    );

    // (b) A chain of rotations of one session, as fast as the server answers.
    let lastAcknowledged = chainStart.refreshToken;
    let rotations = 0;
    const chain = (async () => {
      while (!killed) {
        const reply = await attempt(first, 'POST', '/auth/refresh', {
          body: { refreshToken: lastAcknowledged },
        });
        if (reply === null) return;
        assert.equal(reply.status, 200, `rotation answered before the kill: ${reply.text}`);
        lastAcknowledged = String(reply.body['refreshToken']);
        rotations += 1;
      }
    })();

    // (c) Logouts one by one, spaced so that some straddle the kill.
    const loggedOut: Session[] = [];
    const inFlightLogouts: Session[] = [];
    const notSent: Session[] = [];
    const logouts = (async () => {
      for (const session of sessions) {
        await sleep(Math.floor(Math.random() * 120));
        if (killed) {
          notSent.push(session);
          continue;
        }
        const reply = await attempt(first, 'POST', '/auth/logout', { token: session.accessToken });
        if (reply === null) {
          inFlightLogouts.push(session);
          continue;
        }
        assert.equal(reply.status, 204, `logout answered before the kill: ${reply.text}`);
        loggedOut.push(session);
      }
    })();

    // Handlers attached now, so an assertion failing inside a stream is reported, not unhandled.
    const streams = Promise.allSettled([signups, chain, logouts]);
    await sleep(killAfterMs);
    killed = true;
    await killHard(first);
    for (const outcome of await streams) if (outcome.status === 'rejected') throw outcome.reason;
    t.diagnostic(
      `before the kill: ${signedUp.length} sign-ups (${signupsInFlight} unanswered), ${rotations} rotations, ` +
        `${loggedOut.length} logouts (${inFlightLogouts.length} unanswered, ${notSent.length} not sent)`,
    );
    assert.ok(rotations > 0, 'the refresh chain made progress before the kill');

    const second = await spawnServer(env);
    try {
      // First, while the grace window (10 s from the last committed rotation) surely holds: the
      // last acknowledged token is either still current, or its successor was committed but never
      // delivered, and the grace window hands that successor back.
      const resumed = await call(second, 'POST', '/auth/refresh', {
        body: { refreshToken: lastAcknowledged },
      });
      assert.equal(
        resumed.status,
        200,
        `the last acknowledged refresh token still refreshes: ${resumed.text}`,
      );
      const onward = await call(second, 'POST', '/auth/refresh', {
        body: { refreshToken: String(resumed.body['refreshToken']) },
      });
      assert.equal(onward.status, 200, `the chain continues after the restart: ${onward.text}`);

      for (const session of loggedOut) await assertRevoked(second, session, `logout acknowledged`);

      // An unanswered logout either happened or not, but never half: the access token and the
      // refresh token agree.
      for (const session of inFlightLogouts) {
        const me = await call(second, 'GET', '/auth/me', { token: session.accessToken });
        if (me.status === 200) {
          const refresh = await call(second, 'POST', '/auth/refresh', {
            body: { refreshToken: session.refreshToken },
          });
          assert.equal(
            refresh.status,
            200,
            `access token live, so the refresh token is too: ${refresh.text}`,
          );
        } else {
          await assertRevoked(second, session, 'logout in flight at the kill');
        }
      }
      // A logout that was never sent revoked nothing.
      for (const session of notSent) {
        const me = await call(second, 'GET', '/auth/me', { token: session.accessToken });
        assert.equal(me.status, 200, `session never logged out stays valid: ${me.text}`);
      }

      await pool(signedUp, 4, async (email) => {
        const reply = await call(second, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
        assert.equal(reply.status, 200, `account acknowledged before the kill logs in: ${reply.text}`);
      });
    } finally {
      await killHard(second);
    }
  });

  test('a logout acknowledged right before kill -9 stays in force after the restart', async () => {
    const env = deployment();
    const first = await spawnServer(env);
    const email = uniqueEmail('revoke');
    await signup(first, email);
    const byBearer = await login(first, email);
    const byRefreshToken = await login(first, email);
    const untouched = await login(first, email);

    const bearerLogout = await call(first, 'POST', '/auth/logout', { token: byBearer.accessToken });
    assert.equal(bearerLogout.status, 204, bearerLogout.text);
    const refreshLogout = await call(first, 'POST', '/auth/logout', {
      body: { refreshToken: byRefreshToken.refreshToken },
    });
    assert.equal(refreshLogout.status, 204, refreshLogout.text);
    await killHard(first);

    // The access tokens are cryptographically valid for another 15 minutes; only the revocations
    // loaded from the database at start keep them out.
    const second = await spawnServer(env);
    try {
      await assertRevoked(second, byBearer, 'logout by access token');
      await assertRevoked(second, byRefreshToken, 'logout by refresh token');
      const me = await call(second, 'GET', '/auth/me', { token: untouched.accessToken });
      assert.equal(me.status, 200, `another session of the same user is untouched: ${me.text}`);
      assert.notEqual(untouched.sessionId, byBearer.sessionId);
    } finally {
      await killHard(second);
    }
  });

  test('a rotation whose answer was lost is handed back by the grace window after kill -9', async () => {
    const env = deployment();
    const first = await spawnServer(env);
    const email = uniqueEmail('grace');
    await signup(first, email);
    const session = await login(first, email);
    // The server commits and answers; the client is taken to have never seen the answer.
    const lost = await call(first, 'POST', '/auth/refresh', { body: { refreshToken: session.refreshToken } });
    assert.equal(lost.status, 200, lost.text);
    await killHard(first);

    const second = await spawnServer(env);
    try {
      // The retry of the consumed token is within 10 s of its rotation: the committed successor
      // (kept sealed in the database) comes back, not a revocation of the session.
      const retry = await call(second, 'POST', '/auth/refresh', {
        body: { refreshToken: session.refreshToken },
      });
      assert.equal(retry.status, 200, retry.text);
      assert.equal(retry.body['refreshToken'], lost.body['refreshToken'], 'the current token, not a new one');
      const me = await call(second, 'GET', '/auth/me', { token: String(retry.body['accessToken']) });
      assert.equal(me.status, 200, me.text);
    } finally {
      await killHard(second);
    }
  });
});
