import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, loadConfig, SqliteStore, type TesseraApp } from '../../src/index.ts';
import { FakeClock } from './clock.ts';
import { listenOnLoopback } from './instance.ts';

export interface TestServer {
  url: string;
  app: TesseraApp;
  store: SqliteStore;
  clock: FakeClock;
  dir: string;
  /** Closes the server and the store; removes the data directory unless `keepData`. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

/**
 * A real Tessera server on loopback over a real SQLite file in a fresh temporary directory,
 * with a fake clock. `env` takes TESSERA_* settings as an operator would write them.
 */
export async function startServer(
  env: Record<string, string> = {},
  options: {
    clock?: FakeClock;
    dir?: string;
    realClock?: boolean;
    beforeListen?: (app: TesseraApp) => void;
  } = {},
): Promise<TestServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tessera-test-'));
  const clock = options.clock ?? new FakeClock();
  const config = loadConfig({
    TESSERA_DATABASE_URL: `sqlite:${join(dir, 'tessera.db')}`,
    TESSERA_ISSUER: 'http://tessera.test',
    TESSERA_PORT: '0',
    TESSERA_MAIL_DIR: join(dir, 'mail'),
    ...env,
  });
  const store = SqliteStore.open(config.databaseUrl.slice('sqlite:'.length));
  // A browser runs on real time; everything else freezes time with the fake clock.
  const app = await buildApp({ config, store, now: options.realClock ? Date.now : clock.now });
  options.beforeListen?.(app);
  return {
    url: await listenOnLoopback(app),
    app,
    store,
    clock,
    dir,
    async close({ keepData = false } = {}) {
      await app.close();
      await store.close();
      if (!keepData) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & Array<Record<string, unknown>>;
  text: string;
}

/** One HTTP request with a JSON body; `token` goes in `Authorization: Bearer`. */
export async function call(
  server: { url: string },
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(server.url + path, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = {};
  if (text.length > 0 && (response.headers.get('content-type') ?? '').includes('json'))
    parsed = JSON.parse(text);
  return { status: response.status, headers: response.headers, body: parsed as Reply['body'], text };
}

let counter = 0;
/** A fresh email per call, so tests never collide on accounts. */
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}${counter}.${process.pid}@example.test`;
}

export const PASSWORD = 'correct horse battery staple';

export interface LoggedIn {
  email: string;
  userId: string;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

/** Signs up a fresh user and logs in once. */
export async function signupAndLogin(
  server: { url: string },
  options: { email?: string; password?: string } = {},
): Promise<LoggedIn> {
  const email = options.email ?? uniqueEmail();
  const password = options.password ?? PASSWORD;
  const signup = await call(server, 'POST', '/auth/signup', { body: { email, password } });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.text}`);
  return login(server, email, password);
}

export async function login(server: { url: string }, email: string, password = PASSWORD): Promise<LoggedIn> {
  const reply = await call(server, 'POST', '/auth/login', { body: { email, password } });
  if (reply.status !== 200) throw new Error(`login failed: ${reply.status} ${reply.text}`);
  const accessToken = String(reply.body['accessToken']);
  return {
    email,
    userId: String((reply.body['user'] as { id: string }).id),
    accessToken,
    refreshToken: String(reply.body['refreshToken']),
    sessionId: String(decodePayload(accessToken)['sid']),
  };
}

/** The payload of a compact JWT, without verifying it (for assertions only). */
export function decodePayload(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function decodeHeader(token: string): Record<string, unknown> {
  const header = token.split('.')[0] ?? '';
  return JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>;
}
