/**
 * A resource service as a Tessera user writes one (examples/notes-service): `node resource.ts`,
 * Fastify with the `@tessera/verifier` plugin, subscribed to the auth server's revocation feed
 * (Server-Sent Events, the verifier's default transport). Configured by BENCH_ISSUER (the Tessera
 * URL, also the audience). `GET /notes` answers 200 for a valid token and 401 once its session is
 * revoked. Prints `{"url": …}` once listening on 127.0.0.1 (the first verification waits for the
 * feed's first attempt).
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { createVerifier } from '@tessera/verifier';
import { tesseraAuth } from '@tessera/verifier/fastify';

const issuer = process.env['BENCH_ISSUER'];
if (!issuer) throw new Error('BENCH_ISSUER (the Tessera URL) is required');
const verifier = createVerifier({
  issuer,
  audience: issuer,
  revocations: { url: `${issuer}/auth/revocations` },
});
const app = Fastify({ logger: false });
await app.register(tesseraAuth, { verifier });
app.get('/notes', async (request) => ({ owner: request.tessera?.sub, notes: [] }));
app.addHook('onClose', () => verifier.close());
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address() as AddressInfo;
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}` })}\n`);
process.once('SIGTERM', () => {
  void app.close().finally(() => process.exit(0));
});
