import { createServer, request as forward, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** A loopback HTTP proxy in front of an auth server: counts requests per path and can switch target. */
export interface Proxy {
  url: string;
  /** How many requests for `path` (without the query) went through. */
  hits(path: string): number;
  /** Sends later requests to `target` (a restarted server), or refuses them all with `null`. */
  setTarget(target: string | null): void;
  /** Drops every open connection: what a verifier sees when the auth server dies. */
  dropConnections(): void;
  /**
   * Holds the answers to requests for `path` (each reaches the server at once, as sent; its answer
   * waits) until the returned function is called: a fetch that is in flight across a change.
   */
  holdResponses(path: string): () => void;
  close(): Promise<void>;
}

/**
 * A counting, switchable proxy: the verifier under test talks to a fixed URL while the test
 * restarts or stops the auth server behind it, and counts the JWKS fetches an attack causes. It
 * forwards bytes as they come, so Server-Sent Events pass through unbuffered.
 */
export async function startProxy(initialTarget: string): Promise<Proxy> {
  let target: string | null = initialTarget;
  const counts = new Map<string, number>();
  let held: { path: string; answers: Array<() => void> } | null = null;
  const sockets = new Set<Socket>();
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const path = (incoming.url ?? '/').split('?', 1)[0] ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    if (target === null) {
      incoming.socket.destroy();
      return;
    }
    const upstream = forward(
      new URL(incoming.url ?? '/', target),
      { method: incoming.method, headers: incoming.headers },
      (response) => {
        const answer = () => {
          outgoing.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(outgoing);
          response.on('error', () => outgoing.destroy());
        };
        if (held?.path === path) held.answers.push(answer);
        else answer();
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  const dropConnections = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    url: `http://127.0.0.1:${address.port}`,
    hits: (path) => counts.get(path) ?? 0,
    setTarget(next) {
      target = next;
    },
    dropConnections,
    holdResponses(path) {
      const hold = { path, answers: [] as Array<() => void> };
      held = hold;
      return () => {
        if (held === hold) held = null;
        for (const answer of hold.answers) answer();
      };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        dropConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
