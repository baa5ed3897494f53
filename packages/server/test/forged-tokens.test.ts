import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { TesseraError } from '@tessera/protocol';
import type { ForgedTokenCase } from '../../../test/corpus/forged-access-tokens.ts';
import { forgedTokensFor } from './helpers/forged-corpus.ts';
import { assertRefused, assertTokenRefused } from './helpers/assertions.ts';
import {
  call,
  signupAndLogin,
  startServer,
  type LoggedIn,
  type Reply,
  type TestServer,
} from './helpers/test-server.ts';

/** Node's default `maxHeaderSize` (ATTACKS HTTP-09): a longer header never reaches the app. */
const NODE_HEADER_LIMIT = 16 * 1024;
/** What an HTTP field value can carry as one token: visible ASCII, no whitespace (RFC 9110 §5.5). */
const VISIBLE_ASCII = /^[\x21-\x7e]*$/;
/** Generous: a refusal takes milliseconds; a kid that reached a shell (`sleep 10`) would not (KID-03). */
const MAX_REFUSAL_MS = 5000;

/** A loopback listener that counts requests: a verifier following `jku`/`x5u` shows up (KID-06). */
async function startTrap(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const trap = createServer((_request, response) => {
    hits += 1;
    response.end('{"keys":[]}');
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  const address = trap.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve, reject) => trap.close((error) => (error ? reject(error) : resolve()))),
  };
}

/**
 * A GET sent byte for byte over a socket, for what `fetch` refuses or normalises away: repeated
 * headers (HTTP-05) and tokens with whitespace or line feeds in them (ALG-15).
 */
async function rawGet(server: { url: string }, path: string, headerLines: string[]): Promise<Reply> {
  const { hostname, port } = new URL(server.url);
  const request = [
    `GET ${path} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    ...headerLines,
    'Connection: close',
    '',
    '',
  ];
  const response = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.end(request.join('\r\n')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
  const split = response.indexOf('\r\n\r\n');
  const [statusLine = '', ...fields] = response.slice(0, split).split('\r\n');
  const headers = new Headers();
  for (const field of fields) {
    const colon = field.indexOf(':');
    headers.append(field.slice(0, colon).trim(), field.slice(colon + 1).trim());
  }
  assert.notEqual(headers.get('transfer-encoding'), 'chunked', 'rawGet reads Content-Length bodies only');
  const text = response.slice(split + 4);
  const json = text.length > 0 && (headers.get('content-type') ?? '').includes('json');
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: (json ? JSON.parse(text) : {}) as Reply['body'],
    text,
  };
}

/** Sends a corpus token as `Authorization: Bearer`, over a raw socket when `fetch` can't carry it. */
async function sendBearer(server: { url: string }, token: string): Promise<Reply> {
  if (VISIBLE_ASCII.test(token)) return call(server, 'GET', '/auth/me', { token });
  return rawGet(server, '/auth/me', [`Authorization: Bearer ${token}`]);
}

/**
 * The HTTP answer a case must get. The corpus speaks of token strings; over HTTP some tokens
 * cannot be one `b64token` at all, so the request itself is what gets refused:
 * - longer than Node's header limit: 431 from Node before the app runs (HTTP-09);
 * - with a space or tab inside: the app's 400 `invalid_request` (RFC 6750 §2.1, §3.1: a malformed
 *   request);
 * - with a CR or LF: the header line ends there, and Node's parser answers 400 before Tessera
 *   runs (the body of that answer belongs to HTTP-10).
 * The verifier-level test below holds all of these tokens to the corpus's own answer.
 */
function assertHttpAnswer(reply: Reply, testCase: ForgedTokenCase, profile: Reply['body']): void {
  const where = `${testCase.id} ${testCase.variant}`;
  if (testCase.token.length > NODE_HEADER_LIMIT) {
    assert.notEqual(testCase.expect, 'accepted', where);
    assert.equal(reply.status, 431, `${where}: ${reply.text}`);
  } else if (!VISIBLE_ASCII.test(testCase.token)) {
    assert.notEqual(testCase.expect, 'accepted', where);
    assert.equal(reply.status, 400, `${where}: ${reply.text}`);
    if (!/[\r\n]/.test(testCase.token)) assertRefused(reply, 400, 'invalid_request', where);
  } else if (testCase.expect === 'accepted') {
    assert.equal(reply.status, 200, `${where}: ${reply.text}`);
    // Odd but valid claims (`__proto__`, an audience array…) change nothing about who is calling.
    assert.deepEqual(reply.body, profile, where);
  } else {
    assertTokenRefused(reply, testCase.expect, where);
  }
}

for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
  describe(`forged access tokens, server signing with ${alg} (ATTACKS 1A-1C)`, () => {
    let server: TestServer;
    let trap: Awaited<ReturnType<typeof startTrap>>;
    let session: LoggedIn;
    let profile: Reply['body'];
    let cases: ForgedTokenCase[];

    before(async () => {
      server = await startServer({ TESSERA_SIGNING_ALG: alg });
      trap = await startTrap();
      session = await signupAndLogin(server);
      const me = await call(server, 'GET', '/auth/me', { token: session.accessToken });
      assert.equal(me.status, 200, me.text);
      profile = me.body;
      cases = await forgedTokensFor(server, session.accessToken, trap.url);
    });
    after(async () => {
      await trap.close();
      await server.close();
    });

    test('the corpus covers every row it claims, once per variant', () => {
      const ids = new Set(cases.map((testCase) => testCase.id));
      for (const row of ['ALG-01', 'ALG-07', 'ALG-09', 'ALG-15', 'ALG-21', 'KID-06', 'CLM-11', 'CLM-13']) {
        assert.ok(ids.has(row), row);
      }
      const names = cases.map((testCase) => `${testCase.id} ${testCase.variant}`);
      assert.equal(new Set(names).size, names.length, 'variant names are unique');
    });

    test('every forged token gets its answer over HTTP', async (t) => {
      const statuses: number[] = [];
      for (const testCase of cases) {
        await t.test(`${testCase.id} ${testCase.variant}`, async () => {
          const started = performance.now();
          const reply = await sendBearer(server, testCase.token);
          statuses.push(reply.status);
          assert.ok(performance.now() - started < MAX_REFUSAL_MS, 'answered promptly');
          assertHttpAnswer(reply, testCase, profile);
        });
      }
      assert.equal(statuses.length, cases.length);
      assert.deepEqual(
        statuses.filter((status) => status >= 500),
        [],
        'no case answered with a 5xx',
      );
    });

    test('the verifier itself gives every case the corpus answer', async () => {
      const { sessions } = server.app.tessera;
      for (const testCase of cases) {
        const outcome = await sessions.authenticate(testCase.token, server.clock.now()).then(
          (claims) => (claims.sub === session.userId ? 'accepted' : `accepted for ${claims.sub}`),
          (error: unknown) => (error instanceof TesseraError ? error.code : String(error)),
        );
        assert.equal(outcome, testCase.expect, `${testCase.id} ${testCase.variant}`);
      }
    });

    test('persistence check: the original token still works, and jku/x5u were never fetched', async () => {
      const me = await call(server, 'GET', '/auth/me', { token: session.accessToken });
      assert.equal(me.status, 200, me.text);
      assert.deepEqual(me.body, profile);
      assert.equal(trap.hits(), 0, 'the loopback listener received no request (KID-06)');
    });
  });
}

describe('bearer transport and token kinds (ATTACKS 1D, RT-09, RT-10)', () => {
  let server: TestServer;
  let session: LoggedIn;
  let other: LoggedIn;

  before(async () => {
    server = await startServer();
    session = await signupAndLogin(server);
    other = await signupAndLogin(server);
  });
  after(async () => server.close());

  const me = (authorization: string, path = '/auth/me') =>
    call(server, 'GET', path, { headers: { authorization } });

  test('the scheme is case-insensitive and one or more spaces separate it (HTTP-02, HTTP-03)', async () => {
    for (const authorization of [
      `bearer ${session.accessToken}`,
      `BEARER ${session.accessToken}`,
      `Bearer  ${session.accessToken}`,
    ]) {
      const reply = await me(authorization);
      assert.equal(reply.status, 200, `${authorization.slice(0, 9)}: ${reply.text}`);
    }
  });

  test('a tab separator, a bare scheme or an empty token is a malformed request (HTTP-03)', async () => {
    // `fetch` trims the trailing space of "Bearer ", and so would any HTTP parser (RFC 9110 §5.5).
    for (const authorization of [`Bearer\t${session.accessToken}`, 'Bearer', 'Bearer ']) {
      assertRefused(await me(authorization), 400, 'invalid_request', JSON.stringify(authorization));
    }
  });

  test('two Authorization headers are refused, equal or not (HTTP-05)', async () => {
    for (const [first, second] of [
      [session.accessToken, session.accessToken],
      [session.accessToken, other.accessToken],
    ]) {
      const reply = await rawGet(server, '/auth/me', [
        `Authorization: Bearer ${first}`,
        `Authorization: Bearer ${second}`,
      ]);
      assertRefused(reply, 400, 'invalid_request', first === second ? 'same token twice' : 'two tokens');
    }
  });

  test('a query token beside the header is refused; alone it is no credential (HTTP-06, HTTP-07)', async () => {
    const query = `/auth/me?access_token=${session.accessToken}`;
    assertRefused(await me(`Bearer ${session.accessToken}`, query), 400, 'invalid_request', 'header + query');
    const alone = await call(server, 'GET', query);
    assertRefused(alone, 401, 'invalid_token', 'query only');
    assert.equal(alone.headers.get('www-authenticate'), 'Bearer realm="tessera"');
  });

  test('oversized tokens: 401 past the app cap, 431 past the header limit (HTTP-09)', async () => {
    const nineKb = `eyJ${'A'.repeat(9 * 1024)}`;
    assertTokenRefused(await me(`Bearer ${nineKb}`), 'invalid_token', '9 KB token');
    const twentyKb = await me(`Bearer eyJ${'A'.repeat(20 * 1024)}`);
    assert.equal(twentyKb.status, 431, twentyKb.text);
  });

  test('a refresh token is not a bearer token (RT-10)', async () => {
    assertTokenRefused(await me(`Bearer ${session.refreshToken}`), 'invalid_token', 'RT-10');
  });

  test('an access token is not a refresh token (RT-09)', async () => {
    const reply = await call(server, 'POST', '/auth/refresh', {
      body: { refreshToken: session.accessToken },
    });
    assertRefused(reply, 401, 'invalid_grant', 'RT-09');
    // Neither mix-up harmed the session.
    assert.equal((await me(`Bearer ${session.accessToken}`)).status, 200);
  });
});
