import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, loadConfig, loggerOptions, SqliteStore } from '../src/index.ts';
import { call, signupAndLogin, startServer, type TestServer } from './helpers/test-server.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('security headers and request ids on every response', () => {
  let server: TestServer;
  let accessToken: string;
  before(async () => {
    server = await startServer({ TESSERA_CORS_ORIGINS: 'https://app.example' });
    accessToken = (await signupAndLogin(server)).accessToken;
  });
  after(() => server.close());

  /** Every kind of response: success, refusal, unknown route, wrong method, bad URL, pages, feeds. */
  const requests: Array<{ name: string; path: string; init?: RequestInit; ownCsp?: RegExp }> = [
    { name: 'JSON success', path: '/auth/me', init: { headers: {} } },
    { name: '401', path: '/auth/me' },
    { name: '404', path: '/no/such/route' },
    { name: '405', path: '/auth/login' },
    { name: 'malformed URL', path: '/%' },
    {
      name: '415',
      path: '/auth/login',
      init: { method: 'POST', body: 'x', headers: { 'content-type': 'text/x' } },
    },
    { name: 'JWKS', path: '/.well-known/jwks.json' },
    { name: 'metrics', path: '/metrics' },
    // Everything under /docs is Swagger UI's, with the docs page's policy.
    { name: 'OpenAPI document', path: '/docs/json', ownCsp: /script-src 'self'; style-src 'self'/ },
    {
      name: 'CORS preflight',
      path: '/auth/login',
      init: {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      },
    },
    { name: 'demo page', path: '/', ownCsp: /script-src 'self' 'sha256-/ },
    { name: 'docs page', path: '/docs', ownCsp: /script-src 'self'; style-src 'self'/ },
  ];

  for (const { name, path, init, ownCsp } of requests) {
    test(name, async () => {
      const headers = new Headers(init?.headers);
      if (name === 'JSON success') headers.set('authorization', `Bearer ${accessToken}`);
      const response = await fetch(server.url + path, { ...init, headers });
      await response.arrayBuffer();
      const get = (header: string) => response.headers.get(header);
      assert.equal(get('x-content-type-options'), 'nosniff');
      assert.equal(get('referrer-policy'), 'no-referrer');
      assert.equal(get('x-frame-options'), 'DENY');
      assert.equal(get('cross-origin-resource-policy'), 'same-origin');
      assert.equal(get('strict-transport-security'), null, 'no HSTS for an http issuer');
      assert.match(get('x-request-id') ?? '', UUID);
      const csp = get('content-security-policy') ?? '';
      assert.match(csp, /frame-ancestors 'none'/);
      if (ownCsp) assert.match(csp, ownCsp);
      else assert.equal(csp, "default-src 'none'; frame-ancestors 'none'");
    });
  }

  test('the revocation stream has them too', async () => {
    const controller = new AbortController();
    const response = await fetch(`${server.url}/auth/revocations/stream`, { signal: controller.signal });
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    assert.match(response.headers.get('x-request-id') ?? '', UUID);
    controller.abort();
  });

  test('a short safe incoming x-request-id is kept; anything else is replaced', async () => {
    const kept = await call(server, 'GET', '/healthz', { headers: { 'x-request-id': 'edge-7f3a.1:2_b' } });
    assert.equal(kept.headers.get('x-request-id'), 'edge-7f3a.1:2_b');
    for (const unsafe of ['a b', 'x'.repeat(65), '<script>', 'id\u00e9', 'a;b=c', '']) {
      const reply = await call(server, 'GET', '/healthz', { headers: { 'x-request-id': unsafe } });
      assert.match(reply.headers.get('x-request-id') ?? '', UUID, JSON.stringify(unsafe));
    }
    const twice = await fetch(`${server.url}/healthz`, {
      headers: [
        ['x-request-id', 'one'],
        ['x-request-id', 'two'],
      ],
    });
    assert.match(twice.headers.get('x-request-id') ?? '', UUID, 'two headers: neither is taken');
  });
});

test('HSTS when the issuer is https', async () => {
  const server = await startServer({ TESSERA_ISSUER: 'https://auth.example' });
  try {
    for (const path of ['/healthz', '/no/such/route']) {
      const reply = await call(server, 'GET', path);
      assert.equal(reply.headers.get('strict-transport-security'), 'max-age=31536000');
    }
  } finally {
    await server.close();
  }
});

test('every log line of a request carries the id its response header names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-reqid-'));
  const lines: string[] = [];
  const stream = { write: (line: string) => void lines.push(line) };
  const config = loadConfig({ TESSERA_DATABASE_URL: `sqlite:${join(dir, 't.db')}`, TESSERA_PORT: '0' });
  const store = SqliteStore.open(join(dir, 't.db'));
  const app = await buildApp({ config, store, logger: loggerOptions('info', stream) });
  try {
    const generated = await app.inject({ method: 'GET', url: '/healthz' });
    const passed = await app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'trace-42' } });
    const id = String(generated.headers['x-request-id']);
    assert.match(id, UUID);
    assert.equal(passed.headers['x-request-id'], 'trace-42');
    const entries = lines.map((line) => JSON.parse(line) as { reqId?: string; msg: string });
    for (const requestId of [id, 'trace-42']) {
      // One line per request, when it is answered (issue 12 §3), carrying the id.
      const completed = entries.filter(
        (entry) => entry.reqId === requestId && entry.msg === 'request completed',
      );
      assert.equal(completed.length, 1, `one completed line for ${requestId}`);
    }
    assert.ok(
      entries.every((entry) => entry.reqId !== undefined || !/request/.test(entry.msg)),
      'no request line without an id',
    );
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
