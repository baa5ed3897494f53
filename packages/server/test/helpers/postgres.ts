import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** How to run the PostgreSQL suites against the database of this machine. */
export const ENABLE_POSTGRES = 'TESSERA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test npm test';

/**
 * The PostgreSQL the tests may use (`TESSERA_TEST_POSTGRES_URL`), or `undefined` when there is
 * none. In CI a missing URL registers a failing test instead: CI must run these suites, never skip
 * them. On a laptop the suites are skipped; only the file that passes `announceSkip` says so, so
 * `npm test` prints one line on how to enable them however many files use PostgreSQL.
 */
export function testPostgresUrl({ announceSkip = false }: { announceSkip?: boolean } = {}):
  string | undefined {
  const url = process.env['TESSERA_TEST_POSTGRES_URL'];
  if (url !== undefined && url !== '') return url;
  if (process.env['CI'] !== undefined && process.env['CI'] !== '') {
    test('PostgreSQL test database is configured', () => {
      assert.fail(`CI is set but TESSERA_TEST_POSTGRES_URL is not: run ${ENABLE_POSTGRES}`);
    });
  } else if (announceSkip) {
    test('PostgreSQL suites (store contract, HTTP, faults)', { skip: `to run them: ${ENABLE_POSTGRES}` });
  }
  return undefined;
}

export interface TestSchema {
  /** `baseUrl` with `search_path` set to the fresh schema. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty schema with a random name in the test database, so concurrent test files and runs
 * never see each other's rows; `drop` removes it with everything in it.
 */
export async function createTestSchema(baseUrl: string): Promise<TestSchema> {
  const name = `tessera_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(baseUrl, `CREATE SCHEMA ${name}`);
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${name}`);
  return { url: url.href, name, drop: () => adminQuery(baseUrl, `DROP SCHEMA IF EXISTS ${name} CASCADE`) };
}

async function adminQuery(baseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
