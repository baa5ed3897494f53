import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { assertRefused, assertTokenRefused } from './helpers/assertions.ts';
import {
  call,
  decodePayload,
  login,
  PASSWORD,
  signupAndLogin,
  startServer,
  uniqueEmail,
  type TestServer,
} from './helpers/test-server.ts';

describe('sign-up and login', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => server.close());

  const signup = (body: unknown) => call(server, 'POST', '/auth/signup', { body });
  const loginWith = (body: unknown) => call(server, 'POST', '/auth/login', { body });

  test('one canonical email: case, spaces and fullwidth letters are the same account (AUTH-11)', async () => {
    const local = `ａlice${process.pid}`; // fullwidth ａ folds to a under NFKC
    assert.equal((await signup({ email: `${local}@Example.TEST`, password: PASSWORD })).status, 201);
    for (const email of [`alice${process.pid}@example.test`, ` ALICE${process.pid}@EXAMPLE.TEST `]) {
      assertRefused(await signup({ email, password: PASSWORD }), 409, 'email_taken', email);
      assert.equal((await loginWith({ email, password: PASSWORD })).status, 200, email);
    }
  });

  test('a wrong password and an unknown email get byte-identical answers (AUTH-01)', async () => {
    const { email } = await signupAndLogin(server);
    const wrong = await loginWith({ email, password: 'not the password' });
    const unknown = await loginWith({ email: uniqueEmail('ghost'), password: 'not the password' });
    assertRefused(wrong, 401, 'invalid_credentials');
    assert.equal(unknown.status, wrong.status);
    assert.equal(unknown.text, wrong.text);
    const headerNames = (reply: typeof wrong) =>
      [...reply.headers.keys()].filter((name) => name !== 'date').sort();
    assert.deepEqual(headerNames(unknown), headerNames(wrong));
    assert.equal(unknown.headers.get('set-cookie'), null);
  });

  test('an unknown email costs as much time as a wrong password (AUTH-02)', async () => {
    const { email } = await signupAndLogin(server);
    const time = async (body: unknown): Promise<number> => {
      const start = process.hrtime.bigint();
      await loginWith(body);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const median = (values: number[]): number =>
      values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const known: number[] = [];
    const ghost: number[] = [];
    // Interleaved, under the per-account limit (9 failures each), so drift hits both alike.
    for (let i = 0; i < 9; i++) {
      known.push(await time({ email, password: `wrong-${i}-password` }));
      ghost.push(await time({ email: uniqueEmail('ghost'), password: `wrong-${i}-password` }));
    }
    const [a, b] = [median(known), median(ghost)];
    // Both pay one argon2id verification (tens of ms); an early return would be ~1 ms.
    assert.ok(b > a * 0.5 && b < a * 2, `medians: known ${a.toFixed(1)} ms, unknown ${b.toFixed(1)} ms`);
  });

  test('password rules: 8 characters minimum, 1024 bytes maximum, no truncation, NFKC (AUTH-06..10)', async () => {
    assertRefused(
      await signup({ email: uniqueEmail(), password: '1234567' }),
      400,
      'invalid_request',
      '7 chars',
    );
    assert.equal((await signup({ email: uniqueEmail(), password: '12345678' })).status, 201, '8 chars');
    assertRefused(
      await signup({ email: uniqueEmail(), password: '😀😀😀😀' }),
      400,
      'invalid_request',
      'counted in code points',
    );
    assertRefused(
      await signup({ email: uniqueEmail(), password: 'é'.repeat(513) }),
      400,
      'invalid_request',
      '1026 bytes',
    );

    const long = 'x'.repeat(80);
    const email = uniqueEmail();
    assert.equal((await signup({ email, password: long })).status, 201);
    assertRefused(
      await loginWith({ email, password: long.slice(0, 72) + 'X' }),
      401,
      'invalid_credentials',
      'no 72-byte truncation',
    );
    assert.equal((await loginWith({ email, password: long })).status, 200);

    const nul = uniqueEmail();
    assert.equal((await signup({ email: nul, password: 'abcdefgh\u0000ijk' })).status, 201);
    assertRefused(
      await loginWith({ email: nul, password: 'abcdefgh' }),
      401,
      'invalid_credentials',
      'NUL is not an end',
    );

    const cafe = uniqueEmail();
    assert.equal((await signup({ email: cafe, password: 'café au lait' })).status, 201);
    assert.equal(
      (await loginWith({ email: cafe, password: 'cafe\u0301 au lait' })).status,
      200,
      'NFD logs in as NFC',
    );
  });

  test('oversized passwords are refused before hashing (AUTH-08)', async () => {
    for (const size of [2000, 100_000]) {
      const reply = await loginWith({ email: uniqueEmail(), password: 'p'.repeat(size) });
      assert.ok(reply.status === 400 || reply.status === 413, `${size}: ${reply.status}`);
    }
  });

  test('emails that could smuggle claims or are not emails are refused (CLM-12, AUTH-12)', async () => {
    for (const email of [
      'a@b.co","role":"admin',
      'a\u0000@b.co',
      'a\u2028@b.co',
      'no-at-sign',
      "' OR '1'='1' --",
      'a@b',
      `${'a'.repeat(65)}@b.co`,
    ]) {
      assertRefused(
        await signup({ email, password: PASSWORD }),
        400,
        'invalid_request',
        JSON.stringify(email),
      );
    }
    assertRefused(
      await loginWith({ email: "admin'--@x.io", password: "' OR '1'='1" }),
      401,
      'invalid_credentials',
    );
  });

  test('wrong JSON types and unknown fields are refused, never coerced (AUTH-13, AUTH-14)', async () => {
    const bodies: unknown[] = [
      { email: { $ne: null }, password: { $ne: null } },
      { email: ['a@x.io', 'b@y.io'], password: PASSWORD },
      { email: uniqueEmail(), password: 12345678 },
      { email: uniqueEmail(), password: true },
      { email: uniqueEmail() },
      {},
      null,
      [],
      'text',
      { email: uniqueEmail(), password: PASSWORD, role: 'admin' },
      { email: uniqueEmail(), password: PASSWORD, isAdmin: true },
      { email: uniqueEmail(), password: PASSWORD, id: 'chosen-id' },
    ];
    for (const body of bodies) {
      assertRefused(await signup(body), 400, 'invalid_request', JSON.stringify(body));
    }
    for (const raw of [
      '{"email":"p@x.io","password":"correct horse","__proto__":{"role":"admin"}}',
      '{"email":"c@x.io","password":"correct horse","constructor":{"prototype":{"role":"admin"}}}',
    ]) {
      const reply = await call(server, 'POST', '/auth/signup', {
        rawBody: raw,
        headers: { 'content-type': 'application/json' },
      });
      assertRefused(reply, 400, 'invalid_request', raw);
    }
  });

  test('malformed and mislabelled bodies: 400, 413 or 415, never 500 (AUTH-15..17)', async () => {
    const send = (rawBody: string, contentType?: string) =>
      call(server, 'POST', '/auth/login', {
        rawBody,
        headers: contentType ? { 'content-type': contentType } : {},
      });
    assertRefused(await send('{"email":', 'application/json'), 400, 'invalid_request', 'truncated JSON');
    assertRefused(await send('', 'application/json'), 400, 'invalid_request', 'empty JSON body');
    assertRefused(
      await send('{"email":"a@b.co","password":"x"}', 'text/plain'),
      415,
      'invalid_request',
      'text/plain',
    );
    assertRefused(
      await send('email=a@b.co&password=x', 'application/x-www-form-urlencoded'),
      415,
      'invalid_request',
      'form',
    );
    assertRefused(await send('{"email":"a@b.co","password":"x"}'), 415, 'invalid_request', 'no content type');
    assertRefused(
      await send(JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(20_000) }), 'application/json'),
      413,
      'invalid_request',
      '20 KB',
    );
    assertRefused(
      await send('{"email":' + '['.repeat(7000) + ']'.repeat(7000) + '}', 'application/json'),
      400,
      'invalid_request',
      'deep nesting',
    );
    const utf16 = Buffer.from('{"email":"a@b.co","password":"correct horse"}', 'utf16le').toString('latin1');
    const reply = await send(utf16, 'application/json');
    assert.ok(reply.status === 400, `UTF-16 body: ${reply.status}`);
  });

  test('credentials are never accepted from the URL (AUTH-19)', async () => {
    const reply = await call(
      server,
      'GET',
      `/auth/login?email=a@b.co&password=${encodeURIComponent(PASSWORD)}`,
    );
    assertRefused(reply, 405, 'invalid_request');
  });

  test('mass assignment cannot make an admin; the token carries only documented claims (AUTH-14, CLM-16)', async () => {
    const session = await signupAndLogin(server);
    const claims = decodePayload(session.accessToken);
    assert.equal(claims['role'], 'user');
    assert.equal(claims['scope'], 'profile sessions');
    assert.doesNotMatch(JSON.stringify(claims), /argon2|password|hash/i);
  });

  test('a disabled or deleted account: its still-valid token is refused, refresh too (CLM-14, RT-08)', async () => {
    const session = await signupAndLogin(server);
    const db = new DatabaseSync(join(server.dir, 'tessera.db'));
    try {
      db.prepare('UPDATE users SET disabled_at = ? WHERE id = ?').run(server.clock.now(), session.userId);
    } finally {
      db.close();
    }
    assertTokenRefused(
      await call(server, 'GET', '/auth/me', { token: session.accessToken }),
      'invalid_token',
    );
    assertRefused(
      await call(server, 'POST', '/auth/refresh', { body: { refreshToken: session.refreshToken } }),
      401,
      'invalid_grant',
    );
    assertRefused(await loginWith({ email: session.email, password: PASSWORD }), 401, 'invalid_credentials');
  });
});

describe('rate limits', () => {
  test('20 wrong passwords: 429 with Retry-After after the threshold; the right one refused until the window ends (AUTH-04)', async () => {
    const server = await startServer({
      TESSERA_LOGIN_MAX_FAILURES: '5',
      TESSERA_LOGIN_FAILURE_WINDOW: '10m',
    });
    try {
      const { email } = await signupAndLogin(server);
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const reply = await call(server, 'POST', '/auth/login', {
          body: { email, password: `wrong password ${i}` },
        });
        statuses.push(reply.status);
        if (reply.status === 429) {
          assertRefused(reply, 429, 'rate_limited');
          const retryAfter = Number(reply.headers.get('retry-after'));
          assert.ok(retryAfter > 0 && retryAfter <= 600, `Retry-After ${retryAfter}`);
        }
      }
      assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
      assert.ok(
        statuses.slice(5).every((status) => status === 429),
        statuses.join(','),
      );
      assertRefused(
        await call(server, 'POST', '/auth/login', { body: { email, password: PASSWORD } }),
        429,
        'rate_limited',
        'right password while throttled',
      );
      // The same limit applies to an email with no account: it tells nothing about existence.
      const ghost = uniqueEmail('ghost');
      for (let i = 0; i < 5; i++)
        await call(server, 'POST', '/auth/login', {
          body: { email: ghost, password: `wrong password ${i}` },
        });
      assertRefused(
        await call(server, 'POST', '/auth/login', { body: { email: ghost, password: PASSWORD } }),
        429,
        'rate_limited',
        'unknown email',
      );
      // Temporary: after the window the account logs in again.
      server.clock.advanceSeconds(601);
      assert.equal(
        (await call(server, 'POST', '/auth/login', { body: { email, password: PASSWORD } })).status,
        200,
      );
    } finally {
      await server.close();
    }
  });

  test('per client address on login, sign-up and refresh; X-Forwarded-For ignored unless from a trusted proxy (AUTH-05)', async () => {
    const server = await startServer({ TESSERA_IP_RATE_LIMIT: '3' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const reply = await call(server, 'POST', '/auth/refresh', {
          body: { refreshToken: 'tsr1_' + 'a'.repeat(43) },
          headers: { 'x-forwarded-for': `203.0.113.${i}` },
        });
        statuses.push(reply.status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
      assertRefused(
        await call(server, 'POST', '/auth/signup', { body: { email: uniqueEmail(), password: PASSWORD } }),
        429,
        'rate_limited',
      );
      assertRefused(
        await call(server, 'POST', '/auth/login', { body: { email: uniqueEmail(), password: PASSWORD } }),
        429,
        'rate_limited',
      );
      server.clock.advanceSeconds(61);
      assert.equal(
        (await call(server, 'POST', '/auth/signup', { body: { email: uniqueEmail(), password: PASSWORD } }))
          .status,
        201,
      );
    } finally {
      await server.close();
    }

    const proxied = await startServer({ TESSERA_IP_RATE_LIMIT: '3', TESSERA_TRUST_PROXY: '127.0.0.1' });
    try {
      for (let i = 0; i < 5; i++) {
        const reply = await call(proxied, 'POST', '/auth/refresh', {
          body: { refreshToken: 'tsr1_' + 'a'.repeat(43) },
          headers: { 'x-forwarded-for': `203.0.113.${i}` },
        });
        assert.equal(reply.status, 401, 'each forwarded client has its own budget behind a trusted proxy');
      }
      const session = await signupAndLogin(proxied);
      assert.ok(session.accessToken);
      await login(proxied, session.email);
    } finally {
      await proxied.close();
    }
  });
});

describe('look-alike identities', () => {
  test('invisible and bidi characters cannot make a second account that looks like the first', async () => {
    const server = await startServer();
    try {
      for (const email of [
        'ali\u200bce@example.test',
        'alice\u00ad@example.test',
        'alice@exa\u2060mple.test',
        '\u202ealice@example.test',
      ]) {
        assertRefused(
          await call(server, 'POST', '/auth/signup', { body: { email, password: PASSWORD } }),
          400,
          'invalid_request',
          JSON.stringify(email),
        );
      }
      assertRefused(
        await call(server, 'POST', '/auth/signup', {
          body: { email: uniqueEmail(), password: PASSWORD, name: 'Ada\u202eevil' },
        }),
        400,
        'invalid_request',
      );
      // Lone surrogates would be stored as U+FFFD and collide: refused in emails, names, passwords.
      for (const body of [
        { email: 'a\uD800@example.test', password: PASSWORD },
        { email: uniqueEmail(), password: PASSWORD, name: 'Ada\uDFFF' },
        { email: uniqueEmail(), password: 'long enough \uD800' },
      ]) {
        assertRefused(
          await call(server, 'POST', '/auth/signup', { body }),
          400,
          'invalid_request',
          JSON.stringify(body),
        );
      }
      assertRefused(
        await call(server, 'POST', '/auth/login', {
          body: { email: uniqueEmail(), password: 'long enough \uDFFF' },
        }),
        400,
        'invalid_request',
      );
      const family = await call(server, 'POST', '/auth/signup', {
        body: { email: uniqueEmail(), password: PASSWORD, name: 'Ada 👩‍👩‍👧' },
      });
      assert.equal(family.status, 201, 'joiners in names are fine');
    } finally {
      await server.close();
    }
  });
});
