import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer,
  PASSWORD,
  signupAndLogin,
  uniqueEmail,
  type TestServer,
} from './helpers/test-server.ts';

const APP_ORIGIN = 'https://app.example.test';

/** A minimal browser cookie jar: name → value, from `Set-Cookie` answers. */
class Jar {
  readonly cookies = new Map<string, string>();
  lastSetCookie: string[] = [];

  take(response: Response): void {
    this.lastSetCookie = response.headers.getSetCookie();
    for (const line of this.lastSetCookie) {
      const [pair = ''] = line.split(';', 1);
      const index = pair.indexOf('=');
      const name = pair.slice(0, index);
      const value = pair.slice(index + 1);
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(names?: string[]): string {
    return [...this.cookies]
      .filter(([name]) => !names || names.includes(name))
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
  }

  get csrf(): string {
    return this.cookies.get('tessera_csrf') ?? '';
  }
}

interface Sent {
  status: number;
  body: Record<string, unknown>;
  response: Response;
}

async function send(
  server: TestServer,
  jar: Jar,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; csrf?: boolean; origin?: string | null } = {},
): Promise<Sent> {
  const headers: Record<string, string> = { ...options.headers };
  const cookie = jar.header();
  if (cookie) headers['cookie'] = cookie;
  if (options.origin !== null) headers['origin'] = options.origin ?? APP_ORIGIN;
  if (options.csrf) headers['x-csrf-token'] = jar.csrf;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(server.url + path, { method, headers, body });
  jar.take(response);
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    response,
  };
}

describe('cookie mode', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ TESSERA_CORS_ORIGINS: APP_ORIGIN });
  });
  after(async () => server.close());

  async function cookieLogin(): Promise<{ jar: Jar; email: string }> {
    const { email } = await signupAndLogin(server);
    const jar = new Jar();
    const login = await send(server, jar, 'POST', '/auth/login', {
      body: { email, password: PASSWORD, cookie: true },
    });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    return { jar, email };
  }

  test('login sets HttpOnly, Secure, SameSite=Strict cookies and returns no token in the body (WEB-01)', async () => {
    const { email } = await signupAndLogin(server);
    const jar = new Jar();
    const login = await send(server, jar, 'POST', '/auth/login', {
      body: { email, password: PASSWORD, cookie: true },
    });
    assert.equal(login.status, 200);
    assert.deepEqual(Object.keys(login.body).sort(), ['expiresIn', 'refreshExpiresIn', 'user']);
    assert.equal(login.body['expiresIn'], 900);
    const lines = new Map(jar.lastSetCookie.map((line) => [line.split('=', 1)[0], line]));
    const access = lines.get('__Host-tessera_at') ?? '';
    const refresh = lines.get('__Secure-tessera_rt') ?? '';
    const csrf = lines.get('tessera_csrf') ?? '';
    for (const line of [access, refresh]) {
      assert.match(line, /; HttpOnly/i);
      assert.match(line, /; Secure/i);
      assert.match(line, /; SameSite=Strict/i);
      assert.doesNotMatch(line, /Domain=/i);
    }
    assert.match(access, /Path=\/(;|$)/);
    assert.match(access, /Max-Age=900/);
    assert.match(refresh, /Path=\/auth(;|$)/);
    assert.match(refresh, /Max-Age=604800/);
    assert.doesNotMatch(csrf, /HttpOnly/i, 'the page must read the CSRF token');
    assert.match(csrf, /; Secure/i);
    assert.ok(
      !JSON.stringify(login.body).includes(jar.cookies.get('__Secure-tessera_rt') ?? '@'),
      'refresh token not in body',
    );
  });

  test('the access cookie authenticates reads without any CSRF token', async () => {
    const { jar, email } = await cookieLogin();
    const me = await send(server, jar, 'GET', '/auth/me', { origin: null });
    assert.equal(me.status, 200);
    assert.equal(me.body['email'], email);
  });

  test('a cookie-authenticated state change needs the session-bound CSRF token and an allowed origin (WEB-02)', async () => {
    const { jar } = await cookieLogin();
    const other = await cookieLogin();
    const attempts: Array<[string, Parameters<typeof send>[4]]> = [
      ['no CSRF header', {}],
      ['wrong Origin', { csrf: true, origin: 'https://evil.example' }],
      [
        'cross-site fetch metadata',
        { csrf: true, origin: null, headers: { 'sec-fetch-site': 'cross-site' } },
      ],
      ['no Origin, no Sec-Fetch-Site', { csrf: true, origin: null }],
      ['another session’s token', { headers: { 'x-csrf-token': other.jar.csrf } }],
    ];
    for (const [what, options] of attempts) {
      const reply = await send(server, jar, 'POST', '/auth/logout-all', options);
      assert.equal(reply.status, 403, what);
      assert.equal(reply.body['error'], 'csrf_failed', what);
    }
    // Forged double submit: the attacker plants a matching cookie and header of its own (WEB-04).
    const planted = new Jar();
    for (const [name, value] of jar.cookies) planted.cookies.set(name, value);
    planted.cookies.set('tessera_csrf', 'attacker-chosen-value');
    const forged = await send(server, planted, 'POST', '/auth/logout-all', { csrf: true });
    assert.equal(forged.status, 403);
    // Still logged in after all that.
    assert.equal((await send(server, jar, 'GET', '/auth/me')).status, 200);
    // The real thing passes.
    const ok = await send(server, jar, 'POST', '/auth/logout-all', { csrf: true });
    assert.equal(ok.status, 204);
  });

  test('simple-request content types are refused before anything else (WEB-03)', async () => {
    const { jar } = await cookieLogin();
    for (const contentType of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const reply = await send(server, jar, 'POST', '/auth/password', {
        csrf: true,
        headers: { 'content-type': contentType },
        body: { currentPassword: PASSWORD, newPassword: 'another long password' },
      });
      assert.equal(reply.status, 415, contentType);
    }
  });

  test('refresh from the cookie rotates the cookies; the CSRF rules apply to it too', async () => {
    const { jar } = await cookieLogin();
    const before = jar.cookies.get('__Secure-tessera_rt');
    assert.equal(
      (await send(server, jar, 'POST', '/auth/refresh', { body: {} })).status,
      403,
      'no CSRF header',
    );
    const refreshed = await send(server, jar, 'POST', '/auth/refresh', { body: {}, csrf: true });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    assert.deepEqual(Object.keys(refreshed.body).sort(), ['expiresIn', 'refreshExpiresIn', 'user']);
    assert.notEqual(jar.cookies.get('__Secure-tessera_rt'), before, 'rotated');
    assert.equal((await send(server, jar, 'GET', '/auth/me')).status, 200);
    // With no body at all, the same.
    assert.equal((await send(server, jar, 'POST', '/auth/refresh', { csrf: true })).status, 200);
  });

  test('logout revokes the session and clears every cookie with Max-Age=0 (WEB-06)', async () => {
    const { jar } = await cookieLogin();
    const stolen = new Map(jar.cookies);
    const logout = await send(server, jar, 'POST', '/auth/logout', { csrf: true });
    assert.equal(logout.status, 204);
    const cleared = jar.lastSetCookie
      .filter((line) => /Max-Age=0/i.test(line))
      .map((line) => line.split('=', 1)[0]);
    assert.deepEqual(cleared.sort(), ['__Host-tessera_at', '__Secure-tessera_rt', 'tessera_csrf']);
    assert.match(
      jar.lastSetCookie.find((line) => line.startsWith('__Secure-tessera_rt')) ?? '',
      /Path=\/auth/,
    );
    // The old cookies, replayed, are refused: revoked server-side, not only forgotten by the browser.
    const replay = new Jar();
    for (const [name, value] of stolen) replay.cookies.set(name, value);
    const me = await send(server, replay, 'GET', '/auth/me');
    assert.equal(me.status, 401);
    assert.equal(me.body['error'], 'token_revoked');
    assert.equal((await send(server, replay, 'POST', '/auth/refresh', { csrf: true })).status, 401);
  });

  test('login CSRF: a cookie-mode login from a foreign origin is refused (WEB-05)', async () => {
    const { email } = await signupAndLogin(server);
    const refused = await send(server, new Jar(), 'POST', '/auth/login', {
      body: { email, password: PASSWORD, cookie: true },
      origin: 'https://evil.example',
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body['error'], 'csrf_failed');
    assert.equal(refused.response.headers.getSetCookie().length, 0, 'no cookie set');
  });

  test('header and cookie at once is a malformed request (HTTP-06)', async () => {
    const { jar } = await cookieLogin();
    const bearer = await signupAndLogin(server);
    const reply = await send(server, jar, 'GET', '/auth/me', {
      headers: { authorization: `Bearer ${bearer.accessToken}` },
    });
    assert.equal(reply.status, 400);
    assert.equal(reply.body['error'], 'invalid_request');
  });

  test('CORS: only configured origins, never reflected, never *, always Vary: Origin (WEB-07)', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/auth/login`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    const allowed = await preflight(APP_ORIGIN);
    assert.equal(allowed.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true');
    for (const origin of [
      'https://evil.example',
      'null',
      'https://app.example.test.evil.net',
      'https://evilapp.example.test',
      'http://app.example.test',
    ]) {
      const reply = await preflight(origin);
      assert.equal(reply.headers.get('access-control-allow-origin'), null, origin);
      const simple = await fetch(`${server.url}/auth/me`, { headers: { origin } });
      assert.equal(simple.headers.get('access-control-allow-origin'), null, origin);
      assert.match(simple.headers.get('vary') ?? '', /origin/i);
    }
  });

  test('signing up needs no cookie and is unaffected by cookie mode', async () => {
    const reply = await send(server, new Jar(), 'POST', '/auth/signup', {
      body: { email: uniqueEmail(), password: PASSWORD },
    });
    assert.equal(reply.status, 201);
  });
});
