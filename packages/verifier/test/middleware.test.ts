import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { getRequestListener } from '@hono/node-server';
import {
  call,
  signupAndLogin,
  startServer,
  type LoggedIn,
  type TestServer,
} from '../../server/test/helpers/test-server.ts';
import type { Verifier } from '../src/index.ts';
import { tesseraAuth as expressAuth } from '../src/middleware/express.ts';
import { tesseraAuth as fastifyAuth } from '../src/middleware/fastify.ts';
import { tesseraAuth as honoAuth, type TesseraVariables } from '../src/middleware/hono.ts';
import { protect } from '../src/middleware/node.ts';
import { msUntil, resignWithJose, verifierFor } from './helpers/verifier-setup.ts';

/**
 * Each middleware, mounted in its framework on a real port: `/whoami` needs a valid token and
 * answers the claims the middleware put on the request; `/admin` also needs the `admin` scope.
 */
type Listening = { url: string; close: () => Promise<void> };

async function listen(server: Server): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const FRAMEWORKS: Record<string, (verifier: Verifier) => Promise<Listening>> = {
  'node:http': (verifier) => {
    const user = protect({ verifier }, (request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(request.tessera));
    });
    const admin = protect({ verifier, scopes: ['admin'] }, (_request, response) => response.end('{}'));
    return listen(
      createServer(
        (request, response) => void (request.url?.startsWith('/admin') ? admin : user)(request, response),
      ),
    );
  },
  express: (verifier) => {
    const app = express();
    app.get('/whoami', expressAuth({ verifier }), (req, res) => void res.json(req.tessera));
    app.get('/admin', expressAuth({ verifier, scopes: ['admin'] }), (_req, res) => void res.json({}));
    return listen(createServer(app));
  },
  fastify: async (verifier) => {
    const app = Fastify();
    await app.register(async (scope) => {
      await scope.register(fastifyAuth, { verifier });
      scope.get('/whoami', async (request) => request.tessera);
    });
    await app.register(async (scope) => {
      await scope.register(fastifyAuth, { verifier, scopes: ['admin'] });
      scope.get('/admin', async () => ({}));
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
  },
  hono: (verifier) => {
    const app = new Hono<{ Variables: TesseraVariables }>();
    app.use('/whoami', honoAuth({ verifier }));
    app.use('/admin', honoAuth({ verifier, scopes: ['admin'] }));
    app.get('/whoami', (c) => c.json(c.get('tessera')));
    app.get('/admin', (c) => c.json({}));
    const listener = getRequestListener(app.fetch);
    return listen(createServer((request, response) => void listener(request, response)));
  },
};

describe('middleware answers per SPEC §4 and RFC 6750', () => {
  let server: TestServer;
  let verifier: Verifier;
  let session: LoggedIn;
  let revoked: LoggedIn;
  let expired: string;

  before(async () => {
    server = await startServer();
    verifier = verifierFor(server, { revocations: { url: `${server.url}/auth/revocations` } });
    session = await signupAndLogin(server);
    revoked = await signupAndLogin(server);
    await call(server, 'POST', '/auth/logout', { token: revoked.accessToken });
    await msUntil(verifier, revoked.accessToken, 'token_revoked');
    const iat = Math.floor(server.clock.now() / 1000) - 3600;
    expired = await resignWithJose(server, session.accessToken, { iat, nbf: iat, exp: iat + 900 });
  });
  after(async () => {
    await verifier.close();
    await server.close();
  });

  for (const [name, start] of Object.entries(FRAMEWORKS)) {
    test(name, async () => {
      const app = await start(verifier);
      try {
        const get = (path: string, authorization?: string) =>
          call(app, 'GET', path, authorization === undefined ? {} : { headers: { authorization } });

        const ok = await get('/whoami', `Bearer ${session.accessToken}`);
        assert.equal(ok.status, 200, ok.text);
        assert.equal(ok.body['sub'], session.userId, 'claims on the request');
        assert.equal(ok.body['sid'], session.sessionId);
        assert.equal(
          (await get('/whoami', `bearer ${session.accessToken}`)).status,
          200,
          'scheme case (HTTP-02)',
        );

        for (const authorization of [undefined, 'Basic dXNlcjpwYXNz']) {
          const missing = await get('/whoami', authorization);
          assert.equal(missing.status, 401, `${authorization}: ${missing.text}`);
          assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="tessera"', 'bare challenge');
          assert.equal(missing.body['error'], 'invalid_token');
        }

        for (const [token, code] of [
          ['not.a.token', 'invalid_token'],
          [expired, 'token_expired'],
          [revoked.accessToken, 'token_revoked'],
        ] as const) {
          const reply = await get('/whoami', `Bearer ${token}`);
          assert.equal(reply.status, 401, `${code}: ${reply.text}`);
          assert.deepEqual(Object.keys(reply.body).sort(), ['error', 'message']);
          assert.equal(reply.body['error'], code);
          assert.match(
            reply.headers.get('www-authenticate') ?? '',
            /^Bearer realm="tessera", error="invalid_token"/,
          );
        }

        const forbidden = await get('/admin', `Bearer ${session.accessToken}`);
        assert.equal(forbidden.status, 403, forbidden.text);
        assert.equal(forbidden.body['error'], 'insufficient_scope');
        assert.match(forbidden.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);

        const twice = await call(app, 'GET', `/whoami?access_token=${session.accessToken}`, {
          headers: { authorization: `Bearer ${session.accessToken}` },
        });
        assert.equal(twice.status, 400, `two transports (HTTP-06): ${twice.text}`);
        assert.equal(twice.body['error'], 'invalid_request');
      } finally {
        await app.close();
      }
    });
  }
});
