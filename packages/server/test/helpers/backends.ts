import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { FakeClock } from './clock.ts';
import { startInstance, type Instance } from './instance.ts';
import { Mailbox } from './mailbox.ts';
import { createTestSchema, testPostgresUrl } from './postgres.ts';
import { deleteKeys, testPrefix, testRedisUrl } from './redis.ts';

/** A way to run Tessera that a feature test runs against: SQLite, and PostgreSQL + Redis. */
export interface Backend {
  name: string;
  /** A fresh instance with its own, empty data; `close` removes that data too. */
  start(env: Record<string, string>, clock: FakeClock): Promise<Instance>;
}

/**
 * SQLite always; PostgreSQL + Redis when TESSERA_TEST_POSTGRES_URL and TESSERA_TEST_REDIS_URL are
 * set (CI sets them, and fails without them: the store contracts announce the skip).
 */
export function backends(): Backend[] {
  const list: Backend[] = [
    {
      name: 'SQLite',
      async start(env, clock) {
        const dir = mkdtempSync(join(tmpdir(), 'tessera-test-'));
        const instance = await startInstance(
          {
            TESSERA_DATABASE_URL: `sqlite:${join(dir, 'tessera.db')}`,
            TESSERA_MAIL_DIR: join(dir, 'mail'),
            ...env,
          },
          clock,
        );
        return { ...instance, close: () => instance.close().finally(() => rmSync(dir, { recursive: true })) };
      },
    },
  ];
  const postgresUrl = testPostgresUrl();
  const redisUrl = postgresUrl === undefined ? undefined : testRedisUrl();
  if (postgresUrl !== undefined && redisUrl !== undefined) {
    list.push({
      name: 'PostgreSQL + Redis',
      async start(env, clock) {
        const schema = await createTestSchema(postgresUrl);
        const prefix = testPrefix();
        const instance = await startInstance(
          {
            TESSERA_DATABASE_URL: schema.url,
            TESSERA_REDIS_URL: redisUrl,
            TESSERA_REDIS_PREFIX: prefix,
            ...env,
          },
          clock,
        );
        return {
          ...instance,
          async close() {
            await instance.close();
            await schema.drop();
            await deleteKeys(redisUrl, prefix);
          },
        };
      },
    });
  }
  return list;
}

/** An instance and the real SMTP server it mails to, for the tests of one `describe`. */
export interface MailedInstance {
  readonly server: Instance;
  readonly mailbox: Mailbox;
  readonly clock: FakeClock;
}

/**
 * Call inside a `describe`: starts a real SMTP server and a fresh instance of `backend` mailing
 * to it before the tests, and closes both after them.
 */
export function withMailbox(backend: Backend, env: Record<string, string>): MailedInstance {
  const clock = new FakeClock();
  let mailbox: Mailbox | undefined;
  let server: Instance | undefined;
  before(async () => {
    mailbox = await Mailbox.start();
    server = await backend.start({ TESSERA_SMTP_URL: mailbox.url, ...env }, clock);
  });
  after(async () => {
    await server?.close();
    await mailbox?.stop();
  });
  const started = <T>(part: T | undefined): T => {
    if (part === undefined) throw new Error('used before the suite started');
    return part;
  };
  return {
    clock,
    get server() {
      return started(server);
    },
    get mailbox() {
      return started(mailbox);
    },
  };
}
