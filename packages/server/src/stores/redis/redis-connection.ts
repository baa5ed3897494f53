import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { UnavailableError } from '@tessera/protocol';

/** What a request waits for Redis at most before it answers 503 (ms). */
export const REDIS_COMMAND_TIMEOUT_MS = 2000;
const RETRY_AFTER_SECONDS = 5;

/**
 * A Redis connection that fails fast: while Redis is unreachable a command is refused at once
 * (no offline queue) instead of waiting for a reconnect, a command in flight when the connection
 * drops is failed rather than resent (a resent rotation could apply twice; the client retries
 * instead, and the grace window answers it), and a command Redis does not answer within 2 s fails.
 * Reconnection goes on in the background with a capped backoff, so service resumes by itself.
 */
export function redisClient(url: string): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    // Resubscribe after a reconnect; messages sent meanwhile are read from the log by polling.
    autoResubscribe: true,
  });
  // A connection lost in the background is reported here; without a listener ioredis prints every
  // reconnect attempt. Callers learn of the outage from the failing commands (503).
  client.on('error', () => {});
  return client;
}

/** Connects, or rejects with `UnavailableError` (the process must not start half-configured). */
export async function connect(client: Redis): Promise<void> {
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new UnavailableError(RETRY_AFTER_SECONDS, { cause: error });
  }
}

/** Runs `work`; any failure of Redis (refused, dropped, timed out, a script error) becomes a 503. */
export async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    throw new UnavailableError(RETRY_AFTER_SECONDS, { cause: error });
  }
}

/** A value as a script argument. */
export type Arg = string | number;

/**
 * A Lua script run by its SHA-1 (`EVALSHA`), sent in full once when Redis does not know it — after
 * a restart, say. Scripts take no `KEYS`: they derive key names from the prefix in `ARGV[1]`, which
 * ties Tessera to one Redis node (or a primary with replicas), not Redis Cluster.
 */
export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: Redis, args: readonly Arg[]): Promise<unknown> {
    try {
      return await client.evalsha(this.#sha, 0, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.#source, 0, ...args);
    }
  }
}
