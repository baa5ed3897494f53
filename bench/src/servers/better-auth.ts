/**
 * The Better Auth peer (issue 6, rows (e) of case 2, and cases 3 and 4): `node better-auth.ts`,
 * one process on 127.0.0.1 serving `better-auth` as its documentation sets it up for Node —
 * email and password, `node:sqlite` through its Kysely adapter (a fresh file, schema created at
 * start by its own migration API), the `bearer` plugin (a session token in `Authorization`) and
 * the `jwt` plugin (`GET /api/auth/token` issues a JWT for the session). Prints `{"url": …}` once
 * listening. Configured by BENCH_BA_DB (the SQLite file) and BENCH_BA_ALG (the JWT plugin's key
 * algorithm; its default is EdDSA).
 *
 * Deliberate departures from a default install, each so that the number measures Better Auth's
 * work and not a limit meant for attackers or a side effect:
 * - its rate limiter is off (a load generator on one address would be measured against it; Tessera
 *   runs with its own limits lifted too);
 * - the `jwt` plugin's `set-auth-jwt` header on `get-session` is off (`disableSettingJwtHeader`):
 *   with it, every session check would also sign a JWT; the JWT is measured on its own endpoint;
 * - telemetry off.
 * Everything else is its default: the scrypt password hash, sessions in the database with no
 * cookie cache, so `get-session` reads the session on every request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DatabaseSync } from 'node:sqlite';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { bearer, jwt } from 'better-auth/plugins';

const file = process.env['BENCH_BA_DB'];
if (!file) throw new Error('BENCH_BA_DB (the SQLite file) is required');
const alg = (process.env['BENCH_BA_ALG'] ?? 'EdDSA') as 'EdDSA' | 'RS256' | 'ES256';

let handle: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => {
  response.statusCode = 503;
  response.end();
};
const server = createServer((request, response) => handle(request, response));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const database = new DatabaseSync(file);
// As Tessera's SQLite store: WAL. Better Auth leaves `synchronous` at SQLite's default, FULL.
database.exec('PRAGMA journal_mode = WAL');
const options = {
  baseURL: url,
  secret: 'bench-secret-bench-secret-bench-secret-0123',
  database,
  emailAndPassword: { enabled: true },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  logger: { level: 'error' as const },
  plugins: [
    bearer(),
    jwt({
      disableSettingJwtHeader: true,
      jwks: { keyPairConfig: alg === 'RS256' ? { alg, modulusLength: 2048 } : { alg } },
    }),
  ],
};
const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);
const nodeHandler = toNodeHandler(auth);
handle = (request, response) => void nodeHandler(request, response);

process.stdout.write(`${JSON.stringify({ url })}\n`);
process.once('SIGTERM', () => {
  server.close();
  database.close();
  process.exit(0);
});
