/**
 * The servers Tessera's `GET /auth/me` is compared with, one per process:
 * `node peer.ts <kind>`, configured by BENCH_ALG, BENCH_JWK (the public key), BENCH_ISSUER,
 * BENCH_AUDIENCE, BENCH_JWKS_URL. Prints `{"url": …}` once listening on 127.0.0.1.
 * Each answers a JSON profile built from the token's claims, as `/auth/me` does, without a store.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { createRemoteJWKSet, importJWK, jwtVerify, type JWK } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { createVerifier, type AlgorithmName } from '@tessera/verifier';
import { tesseraAuth } from '@tessera/verifier/fastify';
import { rawVerifier } from '../verify/raw.ts';

export const PEER_KINDS = [
  'fastify-bare',
  'fastify-raw',
  'fastify-raw-threadpool',
  'fastify-tessera-verifier-sync',
  'fastify-tessera-verifier-threadpool',
  'fastify-jose-importjwk',
  'fastify-jose-remote-jwks',
  'express-jsonwebtoken',
] as const;
export type PeerKind = (typeof PEER_KINDS)[number];

const kind = process.argv[2] as PeerKind;
const alg = (process.env['BENCH_ALG'] ?? 'RS256') as AlgorithmName;
const issuer = process.env['BENCH_ISSUER'] ?? '';
const audience = process.env['BENCH_AUDIENCE'] ?? issuer;
const key: KeyObject = createPublicKey({
  key: JSON.parse(process.env['BENCH_JWK'] ?? '{}') as JsonWebKey,
  format: 'jwk',
});

interface Profile {
  id: string;
  email: string;
  name: string;
  role: string;
  createdAt: string;
}
const profile = (sub: string, role: string): Profile => ({
  id: sub,
  email: 'bench@example.test',
  name: 'Bench',
  role,
  createdAt: '2026-01-01T00:00:00.000Z',
});
const bearer = (header: string | undefined): string => (header?.startsWith('Bearer ') ? header.slice(7) : '');

async function start(): Promise<AddressInfo> {
  if (kind === 'express-jsonwebtoken') {
    const app = express();
    app.get('/auth/me', (request, response) => {
      try {
        const claims = jsonwebtoken.verify(bearer(request.headers.authorization), key, {
          algorithms: [alg as jsonwebtoken.Algorithm],
          issuer,
          audience,
        }) as jsonwebtoken.JwtPayload;
        response.json(profile(String(claims.sub), String(claims['role'])));
      } catch {
        response.status(401).json({ error: 'invalid_token' });
      }
    });
    return new Promise((resolve) => {
      const server = app.listen(0, '127.0.0.1', () => resolve(server.address() as AddressInfo));
    });
  }

  const app = Fastify({ logger: false });
  if (kind === 'fastify-bare') {
    // The ceiling: routing and serialisation only, the token not even looked at.
    app.get('/auth/me', async () => profile('00000000-0000-0000-0000-000000000000', 'user'));
  } else if (kind === 'fastify-raw' || kind === 'fastify-raw-threadpool') {
    const raw = rawVerifier(alg, key, { issuer, audience });
    // The same checks on the calling thread, or with the signature on libuv's threadpool (the
    // callback form of `crypto.verify`): the faster of the two is the limit (issue 6, case 2).
    const onThreadpool = kind === 'fastify-raw-threadpool';
    app.get('/auth/me', async (request, reply) => {
      try {
        const token = bearer(request.headers.authorization);
        const claims = onThreadpool ? await raw.async(token) : raw.sync(token);
        return profile(claims.sub, claims.role);
      } catch {
        return reply.code(401).send({ error: 'invalid_token' });
      }
    });
  } else if (kind === 'fastify-jose-importjwk' || kind === 'fastify-jose-remote-jwks') {
    // As jose's docs show (issue 12 §3): a key imported from its JWK (a WebCrypto CryptoKey, whose
    // verify runs on the threadpool), or the issuer's JWKS fetched and cached by jose itself.
    const josekey =
      kind === 'fastify-jose-importjwk'
        ? await importJWK(JSON.parse(process.env['BENCH_JWK'] ?? '{}') as JWK, alg)
        : createRemoteJWKSet(new URL(process.env['BENCH_JWKS_URL'] ?? ''));
    app.get('/auth/me', async (request, reply) => {
      try {
        const { payload } = await jwtVerify(bearer(request.headers.authorization), josekey, {
          issuer,
          audience,
          algorithms: [alg],
        });
        return profile(String(payload.sub), String(payload['role']));
      } catch {
        return reply.code(401).send({ error: 'invalid_token' });
      }
    });
  } else {
    const verifier = createVerifier({
      issuer,
      audience,
      algorithms: [alg],
      jwksUrl: process.env['BENCH_JWKS_URL'] ?? '',
      signatureVerification: kind === 'fastify-tessera-verifier-threadpool' ? 'threadpool' : 'sync',
    });
    await app.register(tesseraAuth, { verifier });
    app.get('/auth/me', async (request) => profile(request.tessera?.sub ?? '', request.tessera?.role ?? ''));
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server.address() as AddressInfo;
}

if (!PEER_KINDS.includes(kind)) throw new Error(`unknown server kind ${kind}`);
const address = await start();
process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}` })}\n`);
process.once('SIGTERM', () => process.exit(0));
