import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { createClient } from '../src/index.ts';
import { ManualClock } from './helpers/fakes.ts';
import { PASSWORD, setup } from './helpers/setup.ts';

const ORIGIN = 'http://app.test';

/**
 * What a browser adds to the client's requests: a cookie jar (HttpOnly cookies included, which
 * the page cannot read), the page's `Origin`, and `document.cookie` showing the readable ones.
 */
function browser(t: TestContext): {
  fetch: typeof globalThis.fetch;
  jar: Map<string, string>;
  sent: Array<{ method: string; path: string; headers: Headers }>;
} {
  const jar = new Map<string, string>();
  const sent: Array<{ method: string; path: string; headers: Headers }> = [];
  const scope = globalThis as { document?: unknown };
  scope.document = {
    get cookie() {
      const csrf = jar.get('tessera_csrf');
      return csrf === undefined ? '' : `tessera_csrf=${csrf}`;
    },
  };
  t.after(() => delete scope.document);
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    sent.push({ method: request.method, path: new URL(request.url).pathname, headers: request.headers });
    const headers = new Headers(request.headers);
    headers.set('origin', ORIGIN);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await globalThis.fetch(new Request(request, { headers }));
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const [name = '', ...rest] = pair.split('=');
      const value = rest.join('=');
      if (value === '' || /max-age=0/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  };
  return { fetch, jar, sent };
}

test('cookie mode: no tokens in script, CSRF header on state changes, refresh and logout by cookie', async (t) => {
  const { server, email } = await setup(t, { env: { TESSERA_CORS_ORIGINS: ORIGIN } });
  const page = browser(t);
  const clock = new ManualClock(server.clock.now());
  const client = createClient({ baseUrl: server.url, mode: 'cookie', fetch: page.fetch, clock });
  t.after(() => client.close());

  await client.login({ email, password: PASSWORD });
  assert.ok(page.jar.has('tessera_csrf'));

  assert.equal((await client.me()).email, email);
  const get = page.sent.at(-1);
  assert.equal(get?.headers.get('x-csrf-token'), null, 'a GET needs no CSRF token');
  assert.equal(get?.headers.get('authorization'), null, 'cookie mode sends no bearer token');

  const refreshed = new Promise((resolve) => client.on('refresh', resolve));
  server.clock.advance(15 * 60 * 1000 - 5000);
  clock.advance(15 * 60 * 1000 - 5000);
  await refreshed;
  const refresh = page.sent.find((request) => request.path === '/auth/refresh');
  assert.ok(refresh?.headers.get('x-csrf-token'));
  assert.equal(refresh?.headers.get('x-csrf-token'), page.jar.get('tessera_csrf'));
  assert.equal((await client.me()).email, email);

  // A reload: a new client on the same cookies picks the session up.
  const reloaded = createClient({
    baseUrl: server.url,
    mode: 'cookie',
    fetch: page.fetch,
    clock,
    crossTab: false,
  });
  t.after(() => reloaded.close());
  assert.equal(await reloaded.resume(), true);
  assert.equal((await reloaded.me()).email, email);

  const ended = new Promise((resolve) => client.on('end', resolve));
  await client.logout();
  assert.deepEqual(await ended, { reason: 'logout' });
  assert.ok(page.sent.at(-1)?.headers.get('x-csrf-token'));
  assert.equal(page.jar.size, 0, 'the server cleared the cookies');
  await assert.rejects(client.me(), { status: 401 });
});
