import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { parseDuration } from '@tessera/protocol';
import { isAlgorithmName } from '../keys/algorithms.ts';
import { JWKS_MAX_AGE_SECONDS } from '../keys/keyring.ts';
import type { Config } from './config.ts';

/** A configuration value is missing or wrong; the message names the variable. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

type Source = Record<string, string | undefined>;

const KNOWN = new Set([
  'TESSERA_CONFIG',
  'TESSERA_PORT',
  'TESSERA_HOST',
  'TESSERA_DATABASE_URL',
  'TESSERA_REDIS_URL',
  'TESSERA_REDIS_PREFIX',
  'TESSERA_ISSUER',
  'TESSERA_AUDIENCE',
  'TESSERA_ACCESS_TTL',
  'TESSERA_REFRESH_TTL',
  'TESSERA_SESSION_MAX_AGE',
  'TESSERA_REUSE_GRACE',
  'TESSERA_SIGNING_ALG',
  'TESSERA_HS256_SECRET',
  'TESSERA_CLOCK_SKEW',
  'TESSERA_LOGIN_MAX_FAILURES',
  'TESSERA_LOGIN_FAILURE_WINDOW',
  'TESSERA_IP_RATE_LIMIT',
  'TESSERA_TRUST_PROXY',
  'TESSERA_EARLY_REFRESH',
  'TESSERA_LOG_LEVEL',
  'TESSERA_LOG_FORMAT',
  'TESSERA_CORS_ORIGINS',
  'TESSERA_KEY_ROTATION',
  'TESSERA_AUDIT_RETENTION',
  'TESSERA_CLEANUP_INTERVAL',
  'TESSERA_SMTP_URL',
  'TESSERA_MAIL_FROM',
  'TESSERA_MAIL_DIR',
  'TESSERA_MAIL_TEMPLATES',
  'TESSERA_RESET_TTL',
  'TESSERA_EMAIL_VERIFICATION',
  'TESSERA_APP_URL',
  'TESSERA_SECRET_KEY',
]);

/**
 * Reads the configuration from environment variables, over an optional JSON file named by
 * `TESSERA_CONFIG` (same keys; the environment wins). Every value is validated here, at start, so
 * a typo stops the server with a message naming the variable instead of surfacing at 3 a.m.
 */
export function loadConfig(env: Source = process.env): Config {
  const source = { ...readConfigFile(env['TESSERA_CONFIG']), ...pickTessera(env) };
  for (const name of Object.keys(source)) {
    if (!KNOWN.has(name)) throw new ConfigError(name, 'unknown setting (check the spelling)');
  }
  const get = (name: string): string | undefined => {
    const value = source[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };

  const port = integer(get, 'TESSERA_PORT', 8080, 0, 65535);
  const accessTtl = duration(get, 'TESSERA_ACCESS_TTL', '15m', 1);
  const refreshTtl = duration(get, 'TESSERA_REFRESH_TTL', '7d', 1);
  const sessionMaxAge = duration(get, 'TESSERA_SESSION_MAX_AGE', '30d', 1);
  const issuer = url(get, 'TESSERA_ISSUER', `http://localhost:${port}`);
  const signingAlg = get('TESSERA_SIGNING_ALG') ?? 'RS256';
  if (!isAlgorithmName(signingAlg)) {
    throw new ConfigError('TESSERA_SIGNING_ALG', 'must be one of RS256, ES256, EdDSA, HS256');
  }
  if (sessionMaxAge < refreshTtl) {
    // Not an error in principle, but the idle lifetime could never be reached: say so early.
    throw new ConfigError('TESSERA_SESSION_MAX_AGE', 'must be at least TESSERA_REFRESH_TTL');
  }

  return {
    port,
    host: get('TESSERA_HOST') ?? '127.0.0.1',
    databaseUrl: databaseUrl(get('TESSERA_DATABASE_URL') ?? 'sqlite:./data/tessera.db'),
    redisUrl: redisUrl(get('TESSERA_REDIS_URL')),
    redisPrefix: redisPrefix(get('TESSERA_REDIS_PREFIX') ?? 'tessera:'),
    issuer,
    audience: get('TESSERA_AUDIENCE') ?? issuer,
    accessTtl,
    refreshTtl,
    sessionMaxAge,
    // A quarter of a year: long enough to investigate an incident reported late, short enough
    // that the log of IP addresses and user agents does not grow without end (docs/operations.md).
    auditRetention: duration(get, 'TESSERA_AUDIT_RETENTION', '90d', 1),
    cleanupInterval: duration(get, 'TESSERA_CLEANUP_INTERVAL', '1m', 1),
    reuseGrace: duration(get, 'TESSERA_REUSE_GRACE', '10s', 0),
    signingAlg,
    hs256Secret: hs256Secret(get('TESSERA_HS256_SECRET')),
    clockSkew: duration(get, 'TESSERA_CLOCK_SKEW', '30s', 0, 300),
    loginMaxFailures: integer(get, 'TESSERA_LOGIN_MAX_FAILURES', 10, 1, 1_000_000),
    loginFailureWindow: duration(get, 'TESSERA_LOGIN_FAILURE_WINDOW', '15m', 1),
    ipRateLimit: integer(get, 'TESSERA_IP_RATE_LIMIT', 120, 1, 1_000_000_000),
    trustProxy: trustProxy(get('TESSERA_TRUST_PROXY')),
    earlyRefresh: oneOf(get, 'TESSERA_EARLY_REFRESH', ['allow', 'revoke'] as const, 'allow'),
    corsOrigins: origins(get('TESSERA_CORS_ORIGINS')),
    keyRotation: keyRotation(duration(get, 'TESSERA_KEY_ROTATION', '30d', 0), accessTtl),
    logLevel: oneOf(
      get,
      'TESSERA_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const,
      'info',
    ),
    logFormat: oneOf(get, 'TESSERA_LOG_FORMAT', ['json', 'pretty'] as const, 'json'),
    smtpUrl: smtpUrl(get('TESSERA_SMTP_URL')),
    mailFrom: mailFrom(get('TESSERA_MAIL_FROM') ?? `Tessera <no-reply@${new URL(issuer).hostname}>`),
    mailDir:
      get('TESSERA_MAIL_DIR') ?? defaultMailDir(get('TESSERA_DATABASE_URL') ?? 'sqlite:./data/tessera.db'),
    mailTemplates: get('TESSERA_MAIL_TEMPLATES'),
    resetTtl: duration(get, 'TESSERA_RESET_TTL', '30m', 60, 86400),
    emailVerification: oneOf(
      get,
      'TESSERA_EMAIL_VERIFICATION',
      ['optional', 'required', 'off'] as const,
      'optional',
    ),
    // Links are built from configuration, never from the request's Host header (SECURITY.md REC-05).
    appUrl: url(get, 'TESSERA_APP_URL', issuer),
    secretKeys: secretKeys(get('TESSERA_SECRET_KEY')),
  };
}

/**
 * `TESSERA_SECRET_KEY`: one or more base64url keys of 32 bytes, comma-separated; the first seals,
 * every one opens (a rotation puts the new key first and keeps the old ones after it).
 */
function secretKeys(text: string | undefined): Buffer[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((entry, index) => {
    const trimmed = entry.trim();
    const key = /^[A-Za-z0-9_-]+$/.test(trimmed) ? Buffer.from(trimmed, 'base64url') : Buffer.alloc(0);
    if (key.length !== 32)
      throw new ConfigError(
        'TESSERA_SECRET_KEY',
        `key ${index + 1} must be 32 bytes in base64url (43 characters; \`openssl rand 32 | basenc --base64url\`)`,
      );
    return key;
  });
}

/** Beside the SQLite file (`./data/mail` at the defaults), so one folder holds a dev instance. */
function defaultMailDir(databaseUrl: string): string {
  if (!databaseUrl.startsWith('sqlite:') || databaseUrl === 'sqlite::memory:') return './data/mail';
  return join(dirname(databaseUrl.slice('sqlite:'.length)), 'mail');
}

function smtpUrl(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(text);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') || parsed.hostname === '') {
    // The value may hold a password: it is not repeated in the message.
    throw new ConfigError('TESSERA_SMTP_URL', 'must be smtp://[user:pass@]host:port or smtps://…');
  }
  return text;
}

/** One address, optionally with a display name; nothing that could end the header line. */
function mailFrom(text: string): string {
  if (/[\r\n]/.test(text) || !/^[^<>@\s]+@[^<>@\s]+$|^[^<>]*<[^<>@\s]+@[^<>@\s]+>$/.test(text)) {
    throw new ConfigError(
      'TESSERA_MAIL_FROM',
      `must be an address like "Tessera <no-reply@example.com>", got "${text}"`,
    );
  }
  return text;
}

function pickTessera(env: Source): Source {
  const out: Source = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('TESSERA_')) out[name] = value;
  }
  return out;
}

function readConfigFile(path: string | undefined): Source {
  if (path === undefined || path.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError('TESSERA_CONFIG', `cannot read ${path} as JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('TESSERA_CONFIG', `${path} must hold a JSON object of TESSERA_* settings`);
  }
  const out: Source = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (name === 'TESSERA_CONFIG') throw new ConfigError(name, 'cannot be set inside the config file');
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ConfigError(name, 'must be a string or a number in the config file');
    }
    out[name] = String(value);
  }
  return out;
}

type Getter = (name: string) => string | undefined;

function integer(get: Getter, name: string, fallback: number, min: number, max: number): number {
  const text = get(name);
  if (text === undefined) return fallback;
  if (!/^\d{1,10}$/.test(text)) throw new ConfigError(name, `must be a whole number, got "${text}"`);
  const value = Number(text);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}`);
  return value;
}

function duration(get: Getter, name: string, fallback: string, min: number, max = 10 * 365 * 86400): number {
  const text = get(name) ?? fallback;
  const seconds = parseDuration(text);
  if (seconds === undefined) {
    throw new ConfigError(name, `must be a duration like 900, 900s, 15m, 12h or 7d, got "${text}"`);
  }
  if (seconds < min || seconds > max) {
    throw new ConfigError(name, `must be between ${min}s and ${max}s, got ${seconds}s`);
  }
  return seconds;
}

function url(get: Getter, name: string, fallback: string): string {
  const text = get(name) ?? fallback;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new ConfigError(name, `must be an absolute URL, got "${text}"`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new ConfigError(name, 'must be an http or https URL');
  }
  return text;
}

function databaseUrl(text: string): string {
  if (text.startsWith('sqlite:') && text.length > 'sqlite:'.length) return text;
  if (/^postgres(ql)?:\/\//.test(text)) return text;
  throw new ConfigError('TESSERA_DATABASE_URL', 'must be sqlite:<file> or postgres://…');
}

function redisUrl(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (/^rediss?:\/\//.test(text)) return text;
  throw new ConfigError('TESSERA_REDIS_URL', 'must be a redis:// or rediss:// URL');
}

/** Short and plain, so a key name can never be mistaken for another deployment's or a pattern. */
function redisPrefix(text: string): string {
  if (/^[A-Za-z0-9:_-]{1,32}$/.test(text)) return text;
  throw new ConfigError('TESSERA_REDIS_PREFIX', 'must be 1 to 32 of A-Z a-z 0-9 : _ -');
}

function hs256Secret(text: string | undefined): Buffer | undefined {
  if (text === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(text)) throw new ConfigError('TESSERA_HS256_SECRET', 'must be base64url');
  const secret = Buffer.from(text, 'base64url');
  // RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits).
  if (secret.length < 32) {
    throw new ConfigError('TESSERA_HS256_SECRET', 'must decode to at least 32 bytes (RFC 7518 §3.2)');
  }
  return secret;
}

function trustProxy(text: string | undefined): string[] {
  if (text === undefined) return [];
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const maxBits = family === 4 ? 32 : 128;
    const bitsOk = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !bitsOk || extra !== undefined) {
      throw new ConfigError('TESSERA_TRUST_PROXY', `"${entry}" is not an IP address or CIDR range`);
    }
  }
  return entries;
}

/** `0` turns scheduled rotation off; otherwise a key must outlive its own retirement overlap. */
function keyRotation(seconds: number, accessTtl: number): number {
  const minimum = accessTtl + JWKS_MAX_AGE_SECONDS;
  if (seconds !== 0 && seconds <= minimum) {
    throw new ConfigError(
      'TESSERA_KEY_ROTATION',
      `must be 0 (off) or longer than ${minimum}s (access TTL + JWKS cache)`,
    );
  }
  return seconds;
}

function origins(text: string | undefined): string[] {
  if (text === undefined) return [];
  const list = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of list) {
    let origin: string | undefined;
    try {
      origin = new URL(entry).origin;
    } catch {
      origin = undefined;
    }
    // Exact origins only (scheme://host[:port]): no wildcards, paths or "null" (ATTACKS WEB-07).
    if (origin !== entry || !/^https?:/.test(entry)) {
      throw new ConfigError(
        'TESSERA_CORS_ORIGINS',
        `"${entry}" is not an origin like https://app.example.com`,
      );
    }
  }
  return list;
}

function oneOf<const T extends string>(get: Getter, name: string, values: readonly T[], fallback: T): T {
  const text = get(name) ?? fallback;
  const found = values.find((value) => value === text);
  if (found === undefined) throw new ConfigError(name, `must be one of ${values.join(', ')}`);
  return found;
}
