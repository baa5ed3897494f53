import type { JsonWebKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

const BETTER_AUTH = join(import.meta.dirname, 'better-auth.ts');

/** The Better Auth peer (servers/better-auth.ts) on a fresh SQLite file; its routes are under `/api/auth`. */
export interface BetterAuthProcess extends ServerProcess {
  /** `url` + Better Auth's base path. */
  api: string;
  databaseFile: string;
}

/** Starts the Better Auth peer; `alg` is its JWT plugin's key algorithm (its default: EdDSA). */
export async function startBetterAuth(alg = 'EdDSA'): Promise<BetterAuthProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'better-auth-bench-'));
  const databaseFile = join(dir, 'better-auth.db');
  const server = await spawnAnnounced(BETTER_AUTH, [], { BENCH_BA_DB: databaseFile, BENCH_BA_ALG: alg });
  return {
    ...server,
    api: `${server.url}/api/auth`,
    databaseFile,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Signs `email` up on the Better Auth peer, with the password Tessera's cases use. */
export async function betterAuthSignUp(api: string, email: string, password: string): Promise<void> {
  const response = await postJson(`${api}/sign-up/email`, { email, password, name: 'Bench' });
  if (response.status !== 200)
    throw new Error(`better-auth sign-up failed: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

/** Signs in: a new session; returns the session token the `bearer` plugin accepts (`set-auth-token`). */
export async function betterAuthSignIn(api: string, email: string, password: string): Promise<string> {
  const response = await postJson(`${api}/sign-in/email`, { email, password });
  await response.arrayBuffer();
  const token = response.headers.get('set-auth-token');
  if (response.status !== 200 || !token) throw new Error(`better-auth sign-in failed: ${response.status}`);
  return token;
}

/**
 * fetch sends `Sec-Fetch-Mode: cors`, so Better Auth's CSRF check treats it as a browser and wants
 * an Origin: its own (a trusted origin by default). autocannon sends neither, like curl.
 */
function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: new URL(url).origin },
    body: JSON.stringify(body),
  });
}
