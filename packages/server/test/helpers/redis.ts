import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './server-process.ts';

/** How to run the Redis suites against this machine's Redis (and PostgreSQL). */
export const ENABLE_REDIS =
  'TESSERA_TEST_REDIS_URL=redis://127.0.0.1:6379 TESSERA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test npm test';

/**
 * The Redis the tests may use (`TESSERA_TEST_REDIS_URL`), or `undefined` when there is none. As
 * for PostgreSQL: in CI a missing URL registers a failing test (CI runs these suites, never skips
 * them); on a laptop they are skipped, and only the file that passes `announceSkip` says so.
 */
export function testRedisUrl({ announceSkip = false }: { announceSkip?: boolean } = {}): string | undefined {
  const url = process.env['TESSERA_TEST_REDIS_URL'];
  if (url !== undefined && url !== '') return url;
  if (process.env['CI'] !== undefined && process.env['CI'] !== '') {
    test('Redis test server is configured', () => {
      assert.fail(`CI is set but TESSERA_TEST_REDIS_URL is not: run ${ENABLE_REDIS}`);
    });
  } else if (announceSkip) {
    test('Redis suites (store contract, races, HTTP, faults)', { skip: `to run them: ${ENABLE_REDIS}` });
  }
  return undefined;
}

/**
 * A fresh key prefix: test files share the machine's Redis (never flushed), so each test writes
 * under its own prefix and `deleteKeys` removes exactly what it wrote.
 */
export function testPrefix(): string {
  return `tessera-test:${randomBytes(6).toString('hex')}:`;
}

/** Every key under `prefix`, by `SCAN` (never `KEYS`, which blocks a shared server). */
export async function keysUnder(url: string, prefix: string): Promise<string[]> {
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under `prefix` (`SCAN` + `UNLINK`). */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const keys = await keysUnder(url, prefix);
  if (keys.length === 0) return;
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  try {
    for (let i = 0; i < keys.length; i += 500) await client.unlink(...keys.slice(i, i + 500));
  } finally {
    client.disconnect();
  }
}

function escapeGlob(text: string): string {
  return text.replaceAll(/[*?[\]\\]/g, (char) => `\\${char}`);
}

export interface OwnRedis {
  url: string;
  port: number;
  /** Kills the server (SIGKILL, as a crash): everything it held is gone. */
  kill(): Promise<void>;
  /** Starts a new, empty server on the same port. */
  restart(): Promise<void>;
}

/**
 * A `redis-server` of the test's own on a free loopback port, keeping nothing on disk, so a fault
 * test can stop it without touching the machine's Redis that other test files share.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const started = child;
    // Never leave it behind, whatever the test does.
    process.once('exit', () => started.kill('SIGKILL'));
    await waitForPing(port);
  };
  const kill = async (): Promise<void> => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, kill, restart: start };
}

async function waitForPing(port: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    } finally {
      client.disconnect();
    }
  }
}
