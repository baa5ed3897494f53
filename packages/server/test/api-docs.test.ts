import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { existsSync } from 'node:fs';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { chromium } from 'playwright-core';
import { call, startServer, type TestServer } from './helpers/test-server.ts';

/** Routes that are not part of the API, and say so with `hide: true`. Nothing else may be missing. */
const NOT_API = [
  /^\/$/, // the demo page and its files
  /^\/(reset-password|verify-email|confirm-email|sign-in)$/, // the pages emailed links open
  /^\/(demo|sdk|protocol)\/:file$/,
  /^\/docs(\/|$)/, // the docs themselves
];

interface OpenApiOperation {
  tags?: string[];
  summary?: string;
  responses?: Record<string, unknown>;
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
}
type OpenApi = { openapi: string; paths: Record<string, Record<string, OpenApiOperation>> };

describe('API documentation', () => {
  let server: TestServer;
  let doc: OpenApi;
  // Every route the app registers, seen from the moment Fastify creates the instance.
  const routes: Array<{ method: string; url: string }> = [];
  const onInstance = (message: unknown) => {
    (message as { fastify: FastifyInstance }).fastify.addHook('onRoute', (route: RouteOptions) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    });
  };

  before(async () => {
    subscribe('fastify.initialization', onInstance);
    try {
      server = await startServer();
    } finally {
      unsubscribe('fastify.initialization', onInstance);
    }
    const reply = await call(server, 'GET', '/docs/json');
    assert.equal(reply.status, 200);
    doc = reply.body as unknown as OpenApi;
  });
  after(() => server.close());

  test('is OpenAPI 3.1', () => {
    assert.equal(doc.openapi, '3.1.0');
  });

  test('documents every registered route', () => {
    const api = routes.filter(
      ({ method, url }) =>
        !['HEAD', 'OPTIONS'].includes(method) && !NOT_API.some((pattern) => pattern.test(url)),
    );
    assert.ok(api.length >= 16, `routes seen: ${api.length}`);
    const missing = api.filter(({ method, url }) => {
      const path = url.replace(/:([A-Za-z]+)/g, '{$1}');
      return doc.paths[path]?.[method.toLowerCase()] === undefined;
    });
    assert.deepEqual(missing, [], 'routes missing from /docs/json');
  });

  test('every operation has a tag, a summary, a success and the error shape', () => {
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const where = `${method.toUpperCase()} ${path}`;
        assert.ok(operation.tags?.length, `${where}: tags`);
        assert.ok(operation.summary, `${where}: summary`);
        const statuses = Object.keys(operation.responses ?? {});
        assert.ok(
          statuses.some((status) => status.startsWith('2')),
          `${where}: a documented success`,
        );
        if (path !== '/metrics') assert.ok(statuses.includes('4XX'), `${where}: the error shape`);
      }
    }
  });

  test('the documented body is the schema that validates it', async () => {
    const body = doc.paths['/auth/login']?.['post']?.requestBody?.content['application/json']?.schema;
    assert.deepEqual(body?.['required'], ['email', 'password']);
    assert.equal(body?.['additionalProperties'], false);
    const refused = await call(server, 'POST', '/auth/login', {
      body: { email: 'a@b.test', password: 'long enough', admin: true },
    });
    assert.equal(refused.status, 400);
  });
});

const CHROMIUM = process.env['TESSERA_CHROMIUM'] ?? '/usr/bin/chromium';

test('the /docs page renders in Chromium under its CSP', { skip: !existsSync(CHROMIUM) }, async () => {
  const server = await startServer({}, { realClock: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${server.url}/docs`);
    await page.getByText('/auth/login').first().waitFor({ timeout: 10_000 });
    await page.getByText('Log in', { exact: true }).first().click();
    await page.getByRole('button', { name: 'Try it out' }).click();
    await page.getByRole('button', { name: 'Authorize' }).first().click();
    await page.getByText('Available authorizations').waitFor();
    assert.deepEqual(problems, [], 'no CSP violation or script error');
  } finally {
    await browser.close();
    await server.close();
  }
});
