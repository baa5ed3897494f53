import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertErrorReply, assertTokenRefused } from './helpers/assertions.ts';
import { eventually } from './helpers/instance.ts';
import { createTestSchema, testPostgresUrl, type TestSchema } from './helpers/postgres.ts';
import { deleteKeys, testPrefix, testRedisUrl } from './helpers/redis.ts';
import { cleanup, spawnServer, type ServerProcess } from './helpers/server-process.ts';
import { call, login, PASSWORD, signupAndLogin, uniqueEmail, type Reply } from './helpers/test-server.ts';

// Issue 5: two real `tessera serve` processes behind an imaginary load balancer, sharing one
// deployment's stores. Every cross-instance promise of SPEC §2 is checked black-box over HTTP, with
// real time (the processes have their own clocks, as in production).

const postgresUrl = testPostgresUrl();

/** One deployment: the TESSERA_* settings every instance of it shares. */
interface Deployment {
  name: string;
  env(schema: TestSchema): Record<string, string>;
}

const redisUrl = testRedisUrl();
/** Redis key prefixes used here, deleted at the end (the machine's Redis is shared, never flushed). */
const prefixes: string[] = [];

const deployments: Deployment[] = [
  { name: 'PostgreSQL', env: (schema) => ({ TESSERA_DATABASE_URL: schema.url }) },
];
if (redisUrl !== undefined) {
  deployments.push({
    name: 'PostgreSQL + Redis',
    env(schema) {
      const prefix = testPrefix();
      prefixes.push(prefix);
      return { TESSERA_DATABASE_URL: schema.url, TESSERA_REDIS_URL: redisUrl, TESSERA_REDIS_PREFIX: prefix };
    },
  });
}

if (postgresUrl !== undefined) {
  const baseUrl = postgresUrl;
  const schemas: TestSchema[] = [];
  after(async () => {
    cleanup();
    for (const schema of schemas) await schema.drop();
    if (redisUrl !== undefined) for (const prefix of prefixes) await deleteKeys(redisUrl, prefix);
  });

  for (const deployment of deployments) {
    describe(`two tessera processes on ${deployment.name}`, () => {
      /** Two instances of one fresh deployment; the first creates the tables and the first key. */
      async function twoInstances(
        extra: Record<string, string> = {},
      ): Promise<[ServerProcess, ServerProcess]> {
        const schema = await createTestSchema(baseUrl);
        schemas.push(schema);
        const env = {
          TESSERA_ISSUER: 'http://tessera.test',
          TESSERA_REUSE_GRACE: '1s',
          ...deployment.env(schema),
          ...extra,
        };
        const a = await spawnServer(env);
        const b = await spawnServer(env);
        return [a, b];
      }

      test('one key, one JWKS: a token issued by A is accepted by B', async () => {
        const [a, b] = await twoInstances();
        const session = await signupAndLogin(a);
        const [jwksA, jwksB] = await Promise.all([
          call(a, 'GET', '/.well-known/jwks.json'),
          call(b, 'GET', '/.well-known/jwks.json'),
        ]);
        assert.deepEqual(jwksB.body, jwksA.body);
        const me = await call(b, 'GET', '/auth/me', { token: session.accessToken });
        assert.equal(me.status, 200, me.text);
        assert.equal(me.body['email'], session.email);
      });

      test('200 concurrent refreshes of one token over both instances leave one live successor', async () => {
        // 200 refreshes from one address would trip the per-address limit (120/min, shared).
        const [a, b] = await twoInstances({ TESSERA_IP_RATE_LIMIT: '1000' });
        const session = await signupAndLogin(a);
        const replies = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            call(i % 2 === 0 ? a : b, 'POST', '/auth/refresh', {
              body: { refreshToken: session.refreshToken },
            }),
          ),
        );
        const ok = replies.filter((reply) => reply.status === 200);
        // Within the grace window every retry is handed the same current token (SPEC §3).
        assert.equal(ok.length, 200, replies.find((reply) => reply.status !== 200)?.text);
        const successors = new Set(ok.map((reply) => String(reply.body['refreshToken'])));
        assert.equal(successors.size, 1, 'one successor');
        const [successor] = successors;
        const next = await call(b, 'POST', '/auth/refresh', { body: { refreshToken: String(successor) } });
        assert.equal(next.status, 200, `the successor is live: ${next.text}`);
      });

      test('a token rotated on A and replayed on B is caught and ends the session everywhere', async () => {
        const [a, b] = await twoInstances();
        const session = await signupAndLogin(a);
        const rotated = await call(a, 'POST', '/auth/refresh', {
          body: { refreshToken: session.refreshToken },
        });
        assert.equal(rotated.status, 200, rotated.text);
        await sleep(1100); // past the 1 s grace window
        assertErrorReply(
          await call(b, 'POST', '/auth/refresh', { body: { refreshToken: session.refreshToken } }),
          401,
          'refresh_token_reused',
        );
        const fresh = String(rotated.body['accessToken']);
        assertTokenRefused(
          await eventually(() => call(a, 'GET', '/auth/me', { token: fresh }), 401, 3000),
          'token_revoked',
        );
        assertErrorReply(
          await call(a, 'POST', '/auth/refresh', {
            body: { refreshToken: String(rotated.body['refreshToken']) },
          }),
          401,
          'invalid_grant',
        );
      });

      test('a logout on A is refused on B within a second; logout everywhere reaches both', async () => {
        const [a, b] = await twoInstances();
        const first = await signupAndLogin(a);
        const second = await login(b, first.email);
        assert.equal((await call(b, 'GET', '/auth/me', { token: first.accessToken })).status, 200);

        assert.equal((await call(a, 'POST', '/auth/logout', { token: first.accessToken })).status, 204);
        const started = Date.now();
        assertTokenRefused(
          await eventually(() => call(b, 'GET', '/auth/me', { token: first.accessToken }), 401, 3000),
          'token_revoked',
        );
        const elapsed = Date.now() - started;
        assert.ok(elapsed < 1500, `B refused the logged-out token after ${elapsed} ms`);
        assertErrorReply(
          await call(b, 'POST', '/auth/refresh', { body: { refreshToken: first.refreshToken } }),
          401,
          'invalid_grant',
        );

        const third = await login(a, first.email);
        assert.equal((await call(b, 'POST', '/auth/logout-all', { token: second.accessToken })).status, 204);
        for (const instance of [a, b]) {
          assertTokenRefused(
            await eventually(
              () => call(instance, 'GET', '/auth/me', { token: third.accessToken }),
              401,
              3000,
            ),
            'token_revoked',
          );
        }
      });

      test('failed logins count across instances', async () => {
        const [a, b] = await twoInstances({ TESSERA_LOGIN_MAX_FAILURES: '3' });
        const email = uniqueEmail('limited');
        const signup = await call(a, 'POST', '/auth/signup', { body: { email, password: PASSWORD } });
        assert.equal(signup.status, 201, signup.text);
        for (const instance of [a, b, a]) {
          const wrong = await call(instance, 'POST', '/auth/login', {
            body: { email, password: 'wrong password!' },
          });
          assertErrorReply(wrong, 401, 'invalid_credentials');
        }
        assertErrorReply(
          await call(b, 'POST', '/auth/login', { body: { email, password: PASSWORD } }),
          429,
          'rate_limited',
        );
      });

      test('an instance killed mid-traffic loses nothing it acknowledged; the other carries on', async () => {
        // A rotation A committed but could not answer before dying is met again on B: the grace
        // window (10 s here) hands back its successor, as it would to any retrying client.
        // The per-address limit (120 a minute by default) is lifted: four loops on one address reach
        // it within the 400 ms on a fast machine, and this test is about durability, not that limit.
        const [a, b] = await twoInstances({ TESSERA_REUSE_GRACE: '10s', TESSERA_IP_RATE_LIMIT: '1000000' });
        const users = await Promise.all(Array.from({ length: 4 }, () => signupAndLogin(a)));
        // Each user keeps rotating on A; what A acknowledged is the token each user holds.
        const held = users.map((user) => user.refreshToken);
        let stop = false;
        const loops = users.map(async (_, index) => {
          while (!stop) {
            let reply: Reply;
            try {
              reply = await call(a, 'POST', '/auth/refresh', { body: { refreshToken: held[index] } });
            } catch {
              return; // A is gone: this request was never acknowledged
            }
            if (reply.status !== 200) return;
            held[index] = String(reply.body['refreshToken']);
          }
        });
        await sleep(400);
        a.child.kill('SIGKILL');
        await a.exited;
        stop = true;
        await Promise.all(loops);
        const rotations = held.filter((token, index) => token !== users[index]?.refreshToken).length;
        assert.equal(rotations, users.length, 'every user rotated on A before it died');

        for (const [index, token] of held.entries()) {
          const reply = await call(b, 'POST', '/auth/refresh', { body: { refreshToken: token } });
          assert.equal(
            reply.status,
            200,
            `user ${index}: the last acknowledged token works on B: ${reply.text}`,
          );
        }
      });
    });
  }
}
