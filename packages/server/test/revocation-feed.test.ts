import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, type ServerSentEvent } from '../../verifier/src/revocations/sse-parser.ts';
import { assertRefused } from './helpers/assertions.ts';
import {
  call,
  decodePayload,
  login,
  signupAndLogin,
  startServer,
  type TestServer,
} from './helpers/test-server.ts';

interface FeedPage {
  cursor: number;
  revoked: Array<{ sid: string; exp: number }>;
}

/** Opens the SSE stream and hands back its events as they come. */
async function openStream(server: TestServer, since: number) {
  const controller = new AbortController();
  const response = await fetch(`${server.url}/auth/revocations/stream?since=${since}`, {
    headers: { accept: 'text/event-stream' },
    signal: controller.signal,
  });
  const events: ServerSentEvent[] = [];
  const parser = new SseParser((event) => events.push(event));
  const reading = (async () => {
    for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) parser.push(chunk);
  })().catch(() => undefined);
  const next = async (count: number): Promise<FeedPage[]> => {
    const deadline = Date.now() + 3000;
    while (events.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return events.slice(0, count).map((event) => JSON.parse(event.data) as FeedPage);
  };
  return { response, events, next, close: async () => (controller.abort(), reading) };
}

describe('the revocation feed (GET /auth/revocations)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => server.close());

  const feed = async (since: number | string = 0) => {
    const reply = await call(server, 'GET', `/auth/revocations?since=${since}`);
    assert.equal(reply.status, 200, reply.text);
    return reply.body as unknown as FeedPage;
  };

  test('lists a revoked session with the time its last token stops mattering, and a cursor', async () => {
    const start = await feed();
    const session = await signupAndLogin(server);
    await call(server, 'POST', '/auth/logout', { token: session.accessToken });
    const page = await feed(start.cursor);
    assert.ok(page.cursor > start.cursor);
    const { exp } = decodePayload(session.accessToken) as { exp: number };
    assert.deepEqual(page.revoked, [
      { sid: session.sessionId, exp: exp + server.app.tessera.config.clockSkew },
    ]);
    assert.deepEqual(await feed(page.cursor), { cursor: page.cursor, revoked: [] }, 'nothing new');
    assert.equal((await call(server, 'GET', '/auth/revocations')).headers.get('cache-control'), 'no-store');
  });

  test('entries drop out once no token they cover can be valid', async () => {
    const session = await signupAndLogin(server);
    await call(server, 'POST', '/auth/logout', { token: session.accessToken });
    const listed = (page: FeedPage) => page.revoked.some((entry) => entry.sid === session.sessionId);
    assert.ok(listed(await feed(0)));
    const { config } = server.app.tessera;
    server.clock.advanceSeconds(config.accessTtl + config.clockSkew);
    assert.ok(!listed(await feed(0)));
  });

  test('since must be a non-negative integer', async () => {
    for (const since of ['-1', 'abc', '1.5', '', '1e3', '99999999999999999']) {
      assertRefused(
        await call(server, 'GET', `/auth/revocations?since=${since}`),
        400,
        'invalid_request',
        since,
      );
    }
    assertRefused(await call(server, 'GET', '/auth/revocations?since=0&other=1'), 400, 'invalid_request');
  });
});

describe('the revocation stream (GET /auth/revocations/stream)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => server.close());

  test('sends the backlog at once, then each revocation as it happens, with the cursor as id', async () => {
    const earlier = await signupAndLogin(server);
    await call(server, 'POST', '/auth/logout', { token: earlier.accessToken });
    const stream = await openStream(server, 0);
    assert.equal(stream.response.status, 200);
    assert.match(stream.response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const [backlog] = await stream.next(1);
    assert.ok(
      backlog?.revoked.some((entry) => entry.sid === earlier.sessionId),
      'backlog',
    );
    assert.equal(stream.events[0]?.id, String(backlog?.cursor));

    const a = await signupAndLogin(server);
    const a2 = await login(server, a.email);
    const started = performance.now();
    await call(server, 'POST', '/auth/logout-all', { token: a.accessToken });
    const sids = new Set<string>();
    // The push may arrive before the logout's own answer: look at what came, then wait for more.
    for (;;) {
      for (const page of await stream.next(stream.events.length)) {
        for (const entry of page.revoked) sids.add(entry.sid);
      }
      if (sids.has(a.sessionId) && sids.has(a2.sessionId)) break;
      if (performance.now() - started >= 3000) break;
      await stream.next(stream.events.length + 1);
    }
    assert.ok(sids.has(a.sessionId) && sids.has(a2.sessionId), 'both sessions pushed');
    assert.ok(performance.now() - started < 1000, 'pushed without waiting for a poll');
    await stream.close();
  });

  test('a bad cursor is a 400, in the query or in Last-Event-ID', async () => {
    assertRefused(await call(server, 'GET', '/auth/revocations/stream?since=x'), 400, 'invalid_request');
    const reply = await call(server, 'GET', '/auth/revocations/stream', {
      headers: { 'last-event-id': 'x' },
    });
    assertRefused(reply, 400, 'invalid_request');
  });

  test('closing the server ends open streams instead of hanging', async () => {
    const other = await startServer();
    const stream = await openStream(other, 0);
    await stream.next(1);
    await other.close();
    await stream.close();
  });
});
