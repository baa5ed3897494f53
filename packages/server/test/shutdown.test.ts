import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { closeGracefully } from '../src/shutdown.ts';
import { cleanup, spawnServer, tempDatabaseUrl } from './helpers/server-process.ts';
import { call, PASSWORD, startServer, uniqueEmail } from './helpers/test-server.ts';

after(cleanup);

/**
 * A request the server is provably working on: its head is sent with `Expect: 100-continue`, and
 * the server's `100 Continue` says it has parsed it. The body goes only when `finish` is called,
 * so the test decides how long the request stays in flight.
 */
interface HeldRequest {
  socket: Socket;
  /** Sends the body; resolves with the status line and body of the answer. */
  finish(): Promise<{ status: number; body: string }>;
  /** Settles when the server has closed the connection. */
  closed: Promise<void>;
}

async function holdRequest(url: string, path: string, body: string): Promise<HeldRequest> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = '';
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => {});
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
  );
  while (!received.includes('100 Continue')) {
    if (socket.destroyed) throw new Error(`connection closed before 100 Continue: ${received}`);
    await sleep(5);
  }
  received = '';
  return {
    socket,
    closed,
    async finish() {
      socket.write(body);
      for (;;) {
        const match = /^HTTP\/1\.1 (\d{3})[^]*?\r\ncontent-length: (\d+)\r\n[^]*?\r\n\r\n/i.exec(received);
        const headEnd = received.indexOf('\r\n\r\n');
        if (match && received.length >= headEnd + 4 + Number(match[2])) {
          return { status: Number(match[1]), body: received.slice(headEnd + 4) };
        }
        if (socket.destroyed) throw new Error(`connection closed before the answer: ${received}`);
        await sleep(5);
      }
    },
  };
}

/** Resolves when a new connection to `url` is refused. */
async function refusesConnections(url: string, withinMs: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>((resolve) => {
      const probe = connect(Number(port), hostname);
      probe.once('connect', () => {
        probe.destroy();
        resolve(false);
      });
      probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    });
    if (refused) return true;
    await sleep(20);
  }
  return false;
}

test('SIGTERM: new connections are refused, logins in flight finish with 200, the process exits 0', async () => {
  const server = await spawnServer({
    TESSERA_DATABASE_URL: tempDatabaseUrl(),
    TESSERA_ISSUER: 'http://tessera.test',
  });
  const email = uniqueEmail('shutdown');
  assert.equal(
    (await call(server, 'POST', '/auth/signup', { body: { email, password: PASSWORD } })).status,
    201,
  );

  // Several logins in flight (argon2 work each), and one idle keep-alive connection.
  const body = JSON.stringify({ email, password: PASSWORD });
  const held = await Promise.all([1, 2, 3].map(() => holdRequest(server.url, '/auth/login', body)));
  const idle = connect(Number(new URL(server.url).port), '127.0.0.1');
  const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
  idle.on('error', () => {});
  idle.write('GET /healthz HTTP/1.1\r\nHost: tessera.test\r\n\r\n');
  await new Promise((resolve) => idle.once('data', resolve));

  const signalledAt = Date.now();
  server.child.kill('SIGTERM');
  assert.ok(await refusesConnections(server.url, 5000), 'new connections are refused after SIGTERM');
  await idleClosed; // an idle connection does not hold the shutdown up

  const answers = await Promise.all(held.map((request) => request.finish()));
  for (const answer of answers) {
    assert.equal(answer.status, 200, answer.body);
    assert.ok(typeof (JSON.parse(answer.body) as { accessToken?: unknown }).accessToken === 'string');
  }
  await Promise.all(held.map((request) => request.closed)); // closed once answered
  const exit = await server.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(Date.now() - signalledAt < 10_000, 'exits within the bound');
});

test('a request that never completes is cut off at the deadline, and the store is closed', async () => {
  const server = await startServer();
  try {
    const held = await holdRequest(server.url, '/auth/login', '{"email":"a@b.test","password":"x"}');
    const started = Date.now();
    const drained = await closeGracefully(server.app, server.store, 300);
    assert.equal(drained, false);
    assert.ok(Date.now() - started < 2000, `bounded: ${Date.now() - started} ms`);
    await held.closed;
    await assert.rejects(server.store.ping(), 'the store is closed');
  } finally {
    await server.close().catch(() => {});
  }
});

test('with nothing in flight, shutdown drains at once', async () => {
  const server = await startServer();
  try {
    assert.equal((await call(server, 'GET', '/healthz')).status, 200);
    const started = Date.now();
    assert.equal(await closeGracefully(server.app, server.store, 5000), true);
    assert.ok(Date.now() - started < 1000);
  } finally {
    await server.close().catch(() => {});
  }
});
