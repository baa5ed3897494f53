import { join } from 'node:path';
import type { JsonWebKey } from 'node:crypto';
import { spawnAnnounced, type ServerProcess } from './spawn.ts';
import type { PeerKind } from './peer.ts';

const PEER = join(import.meta.dirname, 'peer.ts');

/** Starts one comparison server (servers/peer.ts) verifying tokens of the given Tessera. */
export function startPeer(
  kind: PeerKind,
  tessera: { url: string; alg: string; jwk: JsonWebKey },
): Promise<ServerProcess> {
  return spawnAnnounced(PEER, [kind], {
    BENCH_ALG: tessera.alg,
    BENCH_JWK: JSON.stringify(tessera.jwk),
    BENCH_ISSUER: tessera.url,
    BENCH_AUDIENCE: tessera.url,
    BENCH_JWKS_URL: `${tessera.url}/.well-known/jwks.json`,
  });
}

/** The published key that signed `token`, from the server's JWKS. */
export async function signingJwk(url: string, token: string): Promise<JsonWebKey> {
  const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as {
    kid: string;
  };
  const response = await fetch(`${url}/.well-known/jwks.json`);
  const { keys } = (await response.json()) as { keys: Array<JsonWebKey & { kid?: string }> };
  const jwk = keys.find((candidate) => candidate.kid === header.kid);
  if (!jwk) throw new Error('the signing key is not in the JWKS');
  return jwk;
}
