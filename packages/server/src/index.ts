export { buildApp, BODY_LIMIT_BYTES, type AppOptions, type TesseraApp } from './app.ts';
export { loadConfig, ConfigError } from './config/load-config.ts';
export type { Config } from './config/config.ts';
export { openStore } from './stores/open-store.ts';
export type { Store } from './stores/store.ts';
export { SqliteStore } from './stores/sqlite/sqlite-store.ts';
export { Keyring, JWKS_MAX_AGE_SECONDS } from './keys/keyring.ts';
export { serve } from './main.ts';
export { loggerOptions } from './http/logging.ts';
