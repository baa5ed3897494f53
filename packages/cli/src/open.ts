import { ConfigError, Keyring, loadConfig, openStore, type Config, type Store } from '@tessera/server';
import { UsageError } from './usage-error.ts';

/** Loads the configuration and opens its store, turning configuration errors into usage errors. */
export async function openConfiguredStore(): Promise<{ config: Config; store: Store }> {
  try {
    const config = loadConfig();
    return { config, store: await openStore(config) };
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`invalid configuration: ${error.message}`);
    throw error;
  }
}

/** The keyring the servers of this configuration use, over `store` (not loaded yet). */
export function configuredKeyring(config: Config, store: Store): Keyring {
  return new Keyring(store, {
    alg: config.signingAlg,
    hs256Secret: config.hs256Secret,
    retireAfterSeconds: config.accessTtl + config.clockSkew,
  });
}
