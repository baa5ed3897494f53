import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startServer, type TestServer } from './helpers/test-server.ts';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(async () => server.close());

/** Sends raw bytes (what `fetch` refuses to send) and returns the raw answer. */
async function raw(request: string): Promise<{ status: number; headers: string; body: string }> {
  const { port } = new URL(server.url);
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (data += chunk));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
  const [head = '', body = ''] = answer.split('\r\n\r\n', 2);
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body };
}

test('bytes the HTTP parser refuses still get the standard error body, never a 5xx (HTTP-09, HTTP-10)', async () => {
  const cases: Array<[string, number]> = [
    ['GET /auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\nb\r\n\r\n', 400],
    ['GET /auth/me HTTP/1.1\r\nHost: x\r\nX-Control: a\u0000b\r\n\r\n', 400],
    ['GET /auth/me HTTP/1.1\r\nHost: x\r\nX-Delete: a\u007fb\r\n\r\n', 400],
    ['GET /auth/me HTTP/1.1\r\nHost: x\r\nX-Crlf: a\r\n injected: yes\r\n\r\n', 400],
    [`GET /auth/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
    ['NOT-HTTP\r\n\r\n', 400],
  ];
  for (const [request, status] of cases) {
    const reply = await raw(request);
    assert.equal(reply.status, status, JSON.stringify(request.slice(0, 60)));
    assert.match(reply.headers, /content-type: application\/json/);
    const body = JSON.parse(reply.body) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['error', 'message']);
    assert.equal(body['error'], 'invalid_request');
  }
  // The server is still serving.
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
});

test('a malformed URL gets the standard error body and headers', async () => {
  const reply = await raw('GET /auth/sessions/%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.equal(reply.status, 400);
  const body = JSON.parse(reply.body) as Record<string, unknown>;
  assert.deepEqual(body, { error: 'invalid_request', message: 'Malformed request URL' });
  assert.match(reply.headers, /cache-control: no-store/);
  assert.match(reply.headers, /x-content-type-options: nosniff/);
});

test('a JSON body declared in a charset other than UTF-8 is refused with 415 (AUTH-15)', async () => {
  for (const contentType of [
    'application/json; charset=utf-16',
    'application/json;charset="UTF-16LE"',
    'application/json; charset=latin1',
  ]) {
    const response = await fetch(`${server.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: JSON.stringify({ email: 'a@b.co', password: 'x' }),
    });
    assert.equal(response.status, 415, contentType);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_request');
  }
  const utf8 = await fetch(`${server.url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=UTF-8' },
    body: JSON.stringify({ email: 'nobody@example.test', password: 'correct horse' }),
  });
  assert.equal(utf8.status, 401, 'UTF-8 declared explicitly is fine');
});
