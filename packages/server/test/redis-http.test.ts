import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnavailableError } from '@tessera/protocol';
import { loadConfig, openStore } from '../src/index.ts';
import { assertErrorReply, assertTokenRefused } from './helpers/assertions.ts';
import { FakeClock } from './helpers/clock.ts';
import { eventually, startInstance } from './helpers/instance.ts';
import { createTestSchema, testPostgresUrl, type TestSchema } from './helpers/postgres.ts';
import { deleteKeys, startOwnRedis, testPrefix, testRedisUrl } from './helpers/redis.ts';
import { freePort } from './helpers/server-process.ts';
import { call, login, PASSWORD, signupAndLogin, uniqueEmail } from './helpers/test-server.ts';

// The HTTP behaviour of the scale-out deployment, PostgreSQL + Redis, as a user sees it: two
// instances that learn of each other's revocations by pub/sub, and Redis going away and coming back.
// Skipped (announced by the Redis store contract) without TESSERA_TEST_REDIS_URL and
// TESSERA_TEST_POSTGRES_URL; failed in CI without them.
const redisUrl = testRedisUrl();
const postgresUrl = redisUrl === undefined ? undefined : testPostgresUrl();

if (redisUrl !== undefined && postgresUrl !== undefined) {
  const schemas: TestSchema[] = [];
  const prefixes: string[] = [];
  const fresh = async (redis: string): Promise<Record<string, string>> => {
    const schema = await createTestSchema(postgresUrl);
    schemas.push(schema);
    const prefix = testPrefix();
    prefixes.push(prefix);
    return { TESSERA_DATABASE_URL: schema.url, TESSERA_REDIS_URL: redis, TESSERA_REDIS_PREFIX: prefix };
  };
  after(async () => {
    for (const schema of schemas) await schema.drop();
    for (const prefix of prefixes) await deleteKeys(redisUrl, prefix);
  });

  test('two instances on PostgreSQL + Redis: reuse caught across them, logout felt at once by pub/sub', async () => {
    const clock = new FakeClock();
    const env = { ...(await fresh(redisUrl)), TESSERA_LOGIN_MAX_FAILURES: '3' };
    // The log sync is slowed to a minute: whatever reaches the other instance sooner came by pub/sub.
    const a = await startInstance(env, clock, { revocationSyncIntervalMs: 60_000 });
    const b = await startInstance(env, clock, { revocationSyncIntervalMs: 60_000 });
    try {
      const session = await signupAndLogin(a);
      const refreshed = await call(a, 'POST', '/auth/refresh', {
        body: { refreshToken: session.refreshToken },
      });
      assert.equal(refreshed.status, 200, refreshed.text);
      const access = String(refreshed.body['accessToken']);
      assert.equal((await call(b, 'GET', '/auth/me', { token: access })).status, 200);

      // Rotated on A, replayed on B after the grace window: caught on B, the session dies on A too.
      clock.advanceSeconds(11);
      assertErrorReply(
        await call(b, 'POST', '/auth/refresh', { body: { refreshToken: session.refreshToken } }),
        401,
        'refresh_token_reused',
      );
      let started = Date.now();
      assertTokenRefused(
        await eventually(() => call(a, 'GET', '/auth/me', { token: access }), 401, 1000),
        'token_revoked',
      );
      assert.ok(Date.now() - started < 500, `A refused after ${Date.now() - started} ms`);
      assertErrorReply(
        await call(a, 'POST', '/auth/refresh', {
          body: { refreshToken: String(refreshed.body['refreshToken']) },
        }),
        401,
        'invalid_grant',
      );

      // A logout on A is refused on B at once.
      const other = await login(a, session.email);
      assert.equal((await call(b, 'GET', '/auth/me', { token: other.accessToken })).status, 200);
      assert.equal((await call(a, 'POST', '/auth/logout', { token: other.accessToken })).status, 204);
      started = Date.now();
      assertTokenRefused(
        await eventually(() => call(b, 'GET', '/auth/me', { token: other.accessToken }), 401, 1000),
        'token_revoked',
      );
      assert.ok(Date.now() - started < 500, `B refused after ${Date.now() - started} ms`);

      // Failed logins count in Redis for every instance: 3 allowed in all, the 4th refused anywhere.
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

  test('Redis killed: 503 unavailable with Retry-After, /readyz 503, no crash; restarted: service resumes by itself', async () => {
    const redis = await startOwnRedis();
    const clock = new FakeClock();
    const server = await startInstance(await fresh(redis.url), clock);
    try {
      const session = await signupAndLogin(server);
      await redis.kill();

      const refresh = await call(server, 'POST', '/auth/refresh', {
        body: { refreshToken: session.refreshToken },
      });
      assertErrorReply(refresh, 503, 'unavailable');
      assert.ok(Number(refresh.headers.get('retry-after')) > 0, 'Retry-After');
      const loginReply = await call(server, 'POST', '/auth/login', {
        body: { email: session.email, password: PASSWORD },
      });
      assertErrorReply(loginReply, 503, 'unavailable');
      assert.ok(Number(loginReply.headers.get('retry-after')) > 0, 'Retry-After');
      assertErrorReply(
        await call(server, 'POST', '/auth/logout', { token: session.accessToken }),
        503,
        'unavailable',
      );
      assertErrorReply(await call(server, 'GET', '/readyz'), 503, 'unavailable');
      assert.equal((await call(server, 'GET', '/healthz')).status, 200);
      await sleep(1200); // revocation syncs fail in the background meanwhile: no crash

      await redis.restart();
      assert.equal((await eventually(() => call(server, 'GET', '/readyz'), 200, 5000)).status, 200);
      // This Redis kept nothing on disk: sessions are gone (production Redis persists; see the
      // deployment guide), but the service is back without a restart.
      const again = await login(server, session.email);
      const refreshed = await call(server, 'POST', '/auth/refresh', {
        body: { refreshToken: again.refreshToken },
      });
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.equal((await call(server, 'POST', '/auth/logout', { token: again.accessToken })).status, 204);
      assertTokenRefused(
        await call(server, 'GET', '/auth/me', { token: again.accessToken }),
        'token_revoked',
      );
    } finally {
      await server.close();
      await redis.kill();
    }
  });

  test('Redis unreachable at start: the store refuses to open, fast, as unavailable', async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(
      openStore({ ...loadConfig(await fresh(`redis://127.0.0.1:${port}`)) }),
      (error) => error instanceof UnavailableError,
    );
    assert.ok(Date.now() - started < 3000, `gave up after ${Date.now() - started} ms`);
  });
}
