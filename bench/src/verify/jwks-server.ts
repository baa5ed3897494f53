import { createServer } from 'node:http';
import type { JsonWebKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/** A JWKS endpoint on loopback for the Tessera verifier under test; fetched once, then cached. */
export async function serveJwks(keys: JsonWebKey[]): Promise<{ url: string; close(): Promise<void> }> {
  const body = JSON.stringify({ keys });
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
