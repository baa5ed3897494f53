import { parseArgs } from 'node:util';
import { CLI_ACTOR, JWKS_MAX_AGE_SECONDS } from '@tessera/server';
import { configuredKeyring, openConfiguredStore } from '../open.ts';
import { UsageError } from '../usage-error.ts';

/**
 * `tessera keys list` and `tessera keys rotate [--now]`. Rotation publishes the next key at once
 * but lets it sign only after verifiers' JWKS caches have expired (RFC 8725 §3.1 hygiene), unless
 * `--now`; the previous key stays published until its last token has expired.
 */
export async function keysCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'list' && action !== 'rotate')
    throw new UsageError('usage: tessera keys list | tessera keys rotate [--now]');
  let options;
  try {
    ({ values: options } = parseArgs({ args: rest, options: { now: { type: 'boolean', default: false } } }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { config, store } = await openConfiguredStore();
  try {
    const keyring = configuredKeyring(config, store);
    const now = Date.now();
    if (action === 'rotate') {
      await keyring.load();
      const signing = keyring.storeAlgorithm(now);
      if (signing !== undefined && signing !== config.signingAlg) {
        throw new UsageError(
          `the servers sign with ${signing} but this command is configured for ${config.signingAlg}: ` +
            `run it with TESSERA_SIGNING_ALG=${signing}, or change the servers' algorithm by restarting them`,
        );
      }
      if (config.signingAlg === 'HS256' && config.hs256Secret !== undefined) {
        throw new UsageError(
          'TESSERA_HS256_SECRET is set, so a new key would reuse the same secret: rotate by setting a new secret and restarting the servers',
        );
      }
      await keyring.ensureSigningKey(now);
      const activatesAt = options.now ? now : now + JWKS_MAX_AGE_SECONDS * 1000;
      const key = await keyring.rotate(now, activatesAt, CLI_ACTOR);
      process.stdout.write(
        `new ${key.algorithm.name} key ${key.kid} published; signs from ${new Date(activatesAt).toISOString()}\n`,
      );
    }
    await keyring.load();
    if (keyring.list().length === 0) {
      process.stdout.write('no signing keys yet: the server generates one on first start\n');
    }
    for (const key of keyring.list()) {
      const state =
        key.retiresAt !== null && key.retiresAt <= now
          ? 'retired'
          : key.activatesAt > now
            ? 'pending'
            : key.retiresAt !== null
              ? 'retiring'
              : 'active';
      const until = key.retiresAt !== null ? ` published until ${new Date(key.retiresAt).toISOString()}` : '';
      process.stdout.write(
        `${key.kid}  ${key.algorithm.name}  ${state}  from ${new Date(key.activatesAt).toISOString()}${until}\n`,
      );
    }
    return 0;
  } finally {
    await store.close();
  }
}
