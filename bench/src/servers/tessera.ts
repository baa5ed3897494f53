import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnPolled, type ServerProcess } from './spawn.ts';

const CLI = join(import.meta.dirname, '..', '..', '..', 'packages', 'cli', 'src', 'main.ts');

/** A `tessera serve` process on loopback, with its own data. */
export interface TesseraProcess extends ServerProcess {
  databaseUrl: string;
}

/**
 * Starts `tessera serve` as an operator would, on a fresh SQLite file unless `databaseUrl` says
 * otherwise. The limits meant for attackers (per-address rate limit, failures per account) are
 * lifted: a load generator on one address would otherwise be measured against them, not Tessera.
 * Otherwise at the defaults a user runs (issue 12 §3), logging at `info` included: one line per
 * request, written to the child's stdout, which the harness discards. `nodeArgs` go to node
 * before the script: none, as `tessera serve` runs, unless a diagnosis compares V8 settings; `cli`
 * is this checkout's unless a diagnosis compares code with another's.
 */
export async function startTessera(
  settings: Record<string, string> = {},
  nodeArgs: readonly string[] = [],
  cli: string = CLI,
): Promise<TesseraProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // spawnPolled drops the parent's own TESSERA_* settings: they must not change what is measured.
  const env: NodeJS.ProcessEnv = {};
  const databaseUrl = settings['TESSERA_DATABASE_URL'] ?? `sqlite:${join(dir, 'tessera.db')}`;
  Object.assign(env, {
    TESSERA_DATABASE_URL: databaseUrl,
    TESSERA_HOST: '127.0.0.1',
    TESSERA_PORT: String(port),
    TESSERA_ISSUER: url,
    TESSERA_IP_RATE_LIMIT: '1000000000',
    TESSERA_LOGIN_MAX_FAILURES: '1000000',
    ...settings,
  });
  const server = await spawnPolled(cli, ['serve'], env, url, '/readyz', nodeArgs);
  return {
    ...server,
    databaseUrl,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The tokens a login returns. */
export interface Login {
  accessToken: string;
  refreshToken: string;
}

export const PASSWORD = 'correct horse battery staple';

/** Signs up `email` (once) on the server. */
export async function signup(url: string, email: string): Promise<void> {
  const response = await post(url, '/auth/signup', { email, password: PASSWORD });
  if (response.status !== 201) throw new Error(`signup failed: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

/** Logs `email` in: one new session with its own refresh token. */
export async function login(url: string, email: string): Promise<Login> {
  const response = await post(url, '/auth/login', { email, password: PASSWORD });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as Login;
}

function post(url: string, path: string, body: unknown): Promise<Response> {
  return fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
