import { SignJWT } from 'jose';
import { TesseraError } from '@tessera/protocol';
import type { TestServer } from '../../../server/test/helpers/test-server.ts';
import { decodePayload } from '../../../server/test/helpers/test-server.ts';
import { createVerifier, type Verifier, type VerifierOptions } from '../../src/index.ts';

/** A verifier configured for a test server as an operator would: its issuer, TTL and leeway, its clock. */
export function verifierFor(
  server: TestServer,
  options: Partial<VerifierOptions> & { via?: string } = {},
): Verifier {
  const { config } = server.app.tessera;
  const base = options.via ?? server.url;
  return createVerifier({
    issuer: config.issuer,
    audience: config.audience,
    jwksUrl: `${base}/.well-known/jwks.json`,
    clockSkew: config.clockSkew,
    maxTokenAge: config.accessTtl,
    now: server.clock.now,
    ...options,
  });
}

/** What `verify` answers, as the corpus spells it: `accepted` or the error code. */
export async function outcomeOf(verifier: Verifier, token: string): Promise<string> {
  return verifier.verify(token).then(
    () => 'accepted',
    (error: unknown) => (error instanceof TesseraError ? error.code : `not a TesseraError: ${String(error)}`),
  );
}

/**
 * Re-signs a server token's claims, with changes, using the server's real key through `jose`
 * (a second, independent implementation of JWS signing).
 */
export async function resignWithJose(
  server: TestServer,
  token: string,
  changes: Record<string, unknown> = {},
): Promise<string> {
  const key = server.app.tessera.keyring.signingKey(server.clock.now());
  return new SignJWT({ ...decodePayload(token), ...changes })
    .setProtectedHeader({ alg: key.algorithm.name, kid: key.kid, typ: 'at+jwt' })
    .sign(key.privateKey);
}

/**
 * Polls `verify` until it answers `expected`, up to `limitMs`; returns how long that took (ms).
 * Real time: the feed is real network I/O, only token validity runs on the fake clock.
 */
export async function msUntil(
  verifier: Verifier,
  token: string,
  expected: string,
  limitMs = 3000,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    const outcome = await outcomeOf(verifier, token);
    const elapsed = performance.now() - started;
    if (outcome === expected) return elapsed;
    if (elapsed > limitMs)
      throw new Error(`still "${outcome}" after ${Math.round(elapsed)} ms, expected "${expected}"`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
