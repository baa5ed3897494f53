/**
 * `node pieces-server.ts <piece,…>`: a Fastify `GET /auth/me` built from some of the pieces of
 * Tessera's own (`verify`: the raw node:crypto verify of case 1; `headers`: Tessera's response
 * headers hook; `metrics`: its request metrics hook; `profile`: the profile read from its SQLite
 * store and its presentation), so `me-costs.ts` can charge each piece its CPU per request.
 * Configured like servers/peer.ts (BENCH_ALG, BENCH_JWK, BENCH_ISSUER, BENCH_AUDIENCE); prints
 * `{"url": …}` once listening on 127.0.0.1.
 */
import { createPublicKey, randomUUID, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { AlgorithmName } from '@tessera/verifier';
import { SqliteStore } from '@tessera/server';
import {
  installResponseHeaders,
  responseHeaders,
} from '../../../packages/server/src/http/security-headers.ts';
import { presentUser } from '../../../packages/server/src/http/present.ts';
import { measureRequests } from '../../../packages/server/src/observability/http-metrics.ts';
import { Metrics } from '../../../packages/server/src/observability/metrics.ts';
import { rawVerifier } from '../verify/raw.ts';

const pieces = new Set((process.argv[2] ?? '').split(',').filter(Boolean));
const issuer = process.env['BENCH_ISSUER'] ?? '';
const app = Fastify({ logger: false });
if (pieces.has('headers')) installResponseHeaders(app, responseHeaders(issuer));
if (pieces.has('metrics'))
  measureRequests(app, new Metrics({ now: Date.now, signingKeyActivatedAt: () => undefined }));

const raw = pieces.has('verify')
  ? rawVerifier(
      (process.env['BENCH_ALG'] ?? 'RS256') as AlgorithmName,
      createPublicKey({ key: JSON.parse(process.env['BENCH_JWK'] ?? '{}') as JsonWebKey, format: 'jwk' }),
      { issuer, audience: process.env['BENCH_AUDIENCE'] ?? issuer },
    )
  : undefined;
const dir = mkdtempSync(join(tmpdir(), 'tessera-pieces-'));
const store = pieces.has('profile') ? SqliteStore.open(join(dir, 'pieces.db')) : undefined;
const userId = randomUUID();
const now = Date.now();
await store?.createUser({
  id: userId,
  email: 'bench@example.test',
  name: 'Bench',
  passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$${'a'.repeat(22)}$${'b'.repeat(43)}`,
  role: 'user',
  createdAt: now,
  updatedAt: now,
  disabledAt: null,
  emailVerifiedAt: null,
});
const fixed = {
  id: userId,
  email: 'bench@example.test',
  name: 'Bench',
  role: 'user',
  createdAt: new Date(now).toISOString(),
};

app.get('/auth/me', async (request, reply) => {
  const header = request.headers.authorization;
  if (raw) {
    try {
      raw.sync(header?.startsWith('Bearer ') ? header.slice(7) : '');
    } catch {
      return reply.code(401).send({ error: 'invalid_token' });
    }
  }
  if (!store) return fixed;
  const user = await store.getUserById(userId);
  if (!user) return reply.code(401).send({ error: 'invalid_token' });
  return presentUser(user);
});
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address() as AddressInfo;
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}` })}\n`);
process.once('SIGTERM', () => {
  void store?.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
