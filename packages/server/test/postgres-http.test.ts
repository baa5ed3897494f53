import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { PostgresStore, type PostgresStoreOptions } from '../src/index.ts';
import { assertErrorReply, assertTokenRefused } from './helpers/assertions.ts';
import { FakeClock } from './helpers/clock.ts';
import { eventually, startInstance, type Instance } from './helpers/instance.ts';
import { createTestSchema, testPostgresUrl, type TestSchema } from './helpers/postgres.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';
import { call, login, PASSWORD, signupAndLogin, uniqueEmail } from './helpers/test-server.ts';

// The HTTP behaviour on PostgreSQL: a smoke run of the session lifecycle, two instances sharing one
// database, and the database going away and coming back. Skipped (announced once, by the store
// contract) without TESSERA_TEST_POSTGRES_URL; failed in CI without it.
const baseUrl = testPostgresUrl();

/** A real server on loopback over PostgreSQL at `databaseUrl`, on the given fake clock. */
function startOnPostgres(
  databaseUrl: string,
  clock: FakeClock,
  env: Record<string, string> = {},
  storeOptions: PostgresStoreOptions = {},
): Promise<Instance> {
  return startInstance({ TESSERA_DATABASE_URL: databaseUrl, ...env }, clock, {
    open: () => PostgresStore.open(databaseUrl, storeOptions),
  });
}

if (baseUrl !== undefined) {
  const schemas: TestSchema[] = [];
  const freshSchema = async (): Promise<TestSchema> => {
    const schema = await createTestSchema(baseUrl);
    schemas.push(schema);
    return schema;
  };
  after(async () => {
    for (const schema of schemas) await schema.drop();
  });

  test('PostgreSQL over HTTP: sign-up, login, refresh, grace, reuse, logout', async () => {
    const clock = new FakeClock();
    const server = await startOnPostgres((await freshSchema()).url, clock);
    try {
      const session = await signupAndLogin(server);
      assertErrorReply(
        await call(server, 'POST', '/auth/signup', { body: { email: session.email, password: PASSWORD } }),
        409,
        'email_taken',
      );
      assert.equal((await call(server, 'GET', '/auth/me', { token: session.accessToken })).status, 200);
      assert.equal((await call(server, 'GET', '/readyz')).status, 200);

      const refreshed = await call(server, 'POST', '/auth/refresh', {
        body: { refreshToken: session.refreshToken },
      });
      assert.equal(refreshed.status, 200, refreshed.text);
      const next = String(refreshed.body['refreshToken']);
      assert.notEqual(next, session.refreshToken);
      clock.advanceSeconds(2);
      const retried = await call(server, 'POST', '/auth/refresh', {
        body: { refreshToken: session.refreshToken },
      });
      assert.equal(retried.status, 200, 'grace');
      assert.equal(retried.body['refreshToken'], next, 'grace hands back the current token');

      clock.advanceSeconds(11);
      assertErrorReply(
        await call(server, 'POST', '/auth/refresh', { body: { refreshToken: session.refreshToken } }),
        401,
        'refresh_token_reused',
      );
      assertTokenRefused(
        await call(server, 'GET', '/auth/me', { token: String(refreshed.body['accessToken']) }),
        'token_revoked',
      );
      assertErrorReply(
        await call(server, 'POST', '/auth/refresh', { body: { refreshToken: next } }),
        401,
        'invalid_grant',
      );

      const again = await login(server, session.email);
      const sessions = await call(server, 'GET', '/auth/sessions', { token: again.accessToken });
      assert.deepEqual(
        sessions.body.map((entry) => entry['id']),
        [again.sessionId],
      );
      assert.equal((await call(server, 'POST', '/auth/logout', { token: again.accessToken })).status, 204);
      assertTokenRefused(
        await call(server, 'GET', '/auth/me', { token: again.accessToken }),
        'token_revoked',
      );
      assertErrorReply(
        await call(server, 'POST', '/auth/refresh', { body: { refreshToken: again.refreshToken } }),
        401,
        'invalid_grant',
      );
    } finally {
      await server.close();
    }
  });

  test('values PostgreSQL cannot hold (a NUL byte) are 400, not a fake outage', async () => {
    const server = await startOnPostgres((await freshSchema()).url, new FakeClock());
    try {
      const session = await signupAndLogin(server);
      for (const [method, path] of [
        ['DELETE', '/auth/sessions/x%00'],
        ['GET', '/auth/revocations?since=0'],
      ] as const) {
        const reply = await call(server, method, path, { token: session.accessToken });
        assert.ok(reply.status < 500, `${method} ${path}: ${reply.status} ${reply.text}`);
      }
      const nul = await call(server, 'DELETE', '/auth/sessions/x%00', { token: session.accessToken });
      assertErrorReply(nul, 400, 'invalid_request');
      assert.equal((await call(server, 'GET', '/readyz')).status, 200);
    } finally {
      await server.close();
    }
  });

  test('two instances on one PostgreSQL: rotation, reuse, logout and rate limits hold across them', async () => {
    const clock = new FakeClock();
    const { url } = await freshSchema();
    const env = { TESSERA_LOGIN_MAX_FAILURES: '3' };
    const a = await startOnPostgres(url, clock, env);
    const b = await startOnPostgres(url, clock, env);
    try {
      const session = await signupAndLogin(a);
      assert.equal((await call(b, 'GET', '/auth/me', { token: session.accessToken })).status, 200, 'one key');

      // 40 concurrent refreshes of one token spread over both: one successor, handed to all.
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          call(i % 2 === 0 ? a : b, 'POST', '/auth/refresh', {
            body: { refreshToken: session.refreshToken },
          }),
        ),
      );
      assert.deepEqual(
        replies.map((reply) => reply.status),
        Array<number>(40).fill(200),
      );
      const successors = new Set(replies.map((reply) => reply.body['refreshToken']));
      assert.equal(successors.size, 1, 'one live successor');

      // Rotated on A (above), replayed on B after the grace window: caught, and felt on A.
      clock.advanceSeconds(11);
      assertErrorReply(
        await call(b, 'POST', '/auth/refresh', { body: { refreshToken: session.refreshToken } }),
        401,
        'refresh_token_reused',
      );
      const fresh = String(replies[0]?.body['accessToken']);
      assertTokenRefused(
        await eventually(() => call(a, 'GET', '/auth/me', { token: fresh }), 401, 3000),
        'token_revoked',
      );

      // A logout on A is refused on B within about a second (the revocation log).
      const other = await login(a, session.email);
      assert.equal((await call(b, 'GET', '/auth/me', { token: other.accessToken })).status, 200);
      assert.equal((await call(a, 'POST', '/auth/logout', { token: other.accessToken })).status, 204);
      const started = Date.now();
      assertTokenRefused(
        await eventually(() => call(b, 'GET', '/auth/me', { token: other.accessToken }), 401, 3000),
        'token_revoked',
      );
      assert.ok(Date.now() - started < 2500, `B refused after ${Date.now() - started} ms`);

      // Failed logins count across instances: 3 allowed in all, the 4th refused wherever it lands.
      const email = uniqueEmail('limited');
      assert.equal(
        (await call(a, 'POST', '/auth/signup', { body: { email, password: PASSWORD } })).status,
        201,
      );
      for (const server of [a, b, a]) {
        const wrong = await call(server, 'POST', '/auth/login', {
          body: { email, password: 'wrong password!' },
        });
        assert.equal(wrong.status, 401);
      }
      assertErrorReply(
        await call(b, 'POST', '/auth/login', { body: { email, password: PASSWORD } }),
        429,
        'rate_limited',
      );
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('PostgreSQL unreachable: 503 unavailable with Retry-After, /readyz 503, recovery without restart', async () => {
    const target = new URL(baseUrl);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL((await freshSchema()).url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const clock = new FakeClock();
    const server = await startOnPostgres(viaProxy.href, clock, {}, { connectTimeoutMs: 1000 });
    try {
      const session = await signupAndLogin(server);
      proxy.cut();

      const signup = await call(server, 'POST', '/auth/signup', {
        body: { email: uniqueEmail(), password: PASSWORD },
      });
      assertErrorReply(signup, 503, 'unavailable');
      assert.ok(Number(signup.headers.get('retry-after')) > 0, 'Retry-After');
      assertErrorReply(
        await call(server, 'POST', '/auth/refresh', { body: { refreshToken: session.refreshToken } }),
        503,
        'unavailable',
      );
      assertErrorReply(await call(server, 'GET', '/readyz'), 503, 'unavailable');
      assert.equal((await call(server, 'GET', '/healthz')).status, 200);
      // The keys are in memory: the JWKS keeps being served, so verifiers keep working.
      assert.equal((await call(server, 'GET', '/.well-known/jwks.json')).status, 200);
      await sleep(1200); // a revocation sync fails in the background meanwhile: no crash

      proxy.restore();
      assert.equal((await call(server, 'GET', '/readyz')).status, 200);
      const refreshed = await call(server, 'POST', '/auth/refresh', {
        body: { refreshToken: session.refreshToken },
      });
      assert.equal(refreshed.status, 200, `nothing half-written by the outage: ${refreshed.text}`);
    } finally {
      await server.close();
      await proxy.close();
    }
  });
}
