import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/index.ts';

test('defaults are the documented ones (SPEC §2)', () => {
  const config = loadConfig({});
  assert.equal(config.port, 8080);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.databaseUrl, 'sqlite:./data/tessera.db');
  assert.equal(config.redisUrl, undefined);
  assert.equal(config.issuer, 'http://localhost:8080');
  assert.equal(config.audience, 'http://localhost:8080');
  assert.equal(config.accessTtl, 900);
  assert.equal(config.refreshTtl, 7 * 86400);
  assert.equal(config.sessionMaxAge, 30 * 86400);
  assert.equal(config.reuseGrace, 10);
  assert.equal(config.signingAlg, 'RS256');
  assert.equal(config.clockSkew, 30);
  assert.equal(config.loginMaxFailures, 10);
  assert.equal(config.loginFailureWindow, 900);
  assert.equal(config.ipRateLimit, 120);
  assert.deepEqual(config.trustProxy, []);
  assert.equal(config.earlyRefresh, 'allow');
  assert.equal(config.logFormat, 'json');
  assert.equal(config.auditRetention, 90 * 86400);
  assert.equal(config.cleanupInterval, 60);
});

test('every variable is honoured', () => {
  const config = loadConfig({
    TESSERA_PORT: '9000',
    TESSERA_HOST: '0.0.0.0',
    TESSERA_DATABASE_URL: 'sqlite:/var/lib/tessera/db.sqlite',
    TESSERA_ISSUER: 'https://auth.example.com',
    TESSERA_AUDIENCE: 'https://api.example.com',
    TESSERA_ACCESS_TTL: '5m',
    TESSERA_REFRESH_TTL: '12h',
    TESSERA_SESSION_MAX_AGE: '7d',
    TESSERA_REUSE_GRACE: '0',
    TESSERA_SIGNING_ALG: 'EdDSA',
    TESSERA_CLOCK_SKEW: '1m',
    TESSERA_LOGIN_MAX_FAILURES: '3',
    TESSERA_LOGIN_FAILURE_WINDOW: '1h',
    TESSERA_IP_RATE_LIMIT: '60',
    TESSERA_TRUST_PROXY: '10.0.0.0/8, 192.168.1.1,::1',
    TESSERA_EARLY_REFRESH: 'revoke',
    TESSERA_LOG_FORMAT: 'pretty',
    TESSERA_AUDIT_RETENTION: '365d',
    TESSERA_CLEANUP_INTERVAL: '5m',
  });
  assert.equal(config.port, 9000);
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.databaseUrl, 'sqlite:/var/lib/tessera/db.sqlite');
  assert.equal(config.issuer, 'https://auth.example.com');
  assert.equal(config.audience, 'https://api.example.com');
  assert.equal(config.accessTtl, 300);
  assert.equal(config.refreshTtl, 43200);
  assert.equal(config.sessionMaxAge, 604800);
  assert.equal(config.reuseGrace, 0);
  assert.equal(config.signingAlg, 'EdDSA');
  assert.equal(config.clockSkew, 60);
  assert.equal(config.loginMaxFailures, 3);
  assert.equal(config.loginFailureWindow, 3600);
  assert.equal(config.ipRateLimit, 60);
  assert.deepEqual(config.trustProxy, ['10.0.0.0/8', '192.168.1.1', '::1']);
  assert.equal(config.earlyRefresh, 'revoke');
  assert.equal(config.logFormat, 'pretty');
  assert.equal(config.auditRetention, 365 * 86400);
  assert.equal(config.cleanupInterval, 300);
});

test('a bad value stops start-up with a message naming the variable', () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ TESSERA_PORT: 'eighty' }, 'TESSERA_PORT'],
    [{ TESSERA_PORT: '70000' }, 'TESSERA_PORT'],
    [{ TESSERA_ACCESS_TTL: '15 minutes' }, 'TESSERA_ACCESS_TTL'],
    [{ TESSERA_ACCESS_TTL: '0' }, 'TESSERA_ACCESS_TTL'],
    [{ TESSERA_REFRESH_TTL: '-1d' }, 'TESSERA_REFRESH_TTL'],
    [{ TESSERA_SESSION_MAX_AGE: '1h' }, 'TESSERA_SESSION_MAX_AGE'],
    [{ TESSERA_REUSE_GRACE: '1.5s' }, 'TESSERA_REUSE_GRACE'],
    [{ TESSERA_SIGNING_ALG: 'none' }, 'TESSERA_SIGNING_ALG'],
    [{ TESSERA_SIGNING_ALG: 'HS512' }, 'TESSERA_SIGNING_ALG'],
    [{ TESSERA_CLOCK_SKEW: '1h' }, 'TESSERA_CLOCK_SKEW'],
    [{ TESSERA_DATABASE_URL: 'mysql://x' }, 'TESSERA_DATABASE_URL'],
    [{ TESSERA_REDIS_URL: 'http://x' }, 'TESSERA_REDIS_URL'],
    [{ TESSERA_ISSUER: 'not a url' }, 'TESSERA_ISSUER'],
    [{ TESSERA_LOGIN_MAX_FAILURES: '0' }, 'TESSERA_LOGIN_MAX_FAILURES'],
    [{ TESSERA_IP_RATE_LIMIT: 'lots' }, 'TESSERA_IP_RATE_LIMIT'],
    [{ TESSERA_TRUST_PROXY: 'everyone' }, 'TESSERA_TRUST_PROXY'],
    [{ TESSERA_TRUST_PROXY: '10.0.0.0/33' }, 'TESSERA_TRUST_PROXY'],
    [{ TESSERA_EARLY_REFRESH: 'sometimes' }, 'TESSERA_EARLY_REFRESH'],
    [{ TESSERA_LOG_FORMAT: 'yaml' }, 'TESSERA_LOG_FORMAT'],
    [{ TESSERA_AUDIT_RETENTION: 'forever' }, 'TESSERA_AUDIT_RETENTION'],
    [{ TESSERA_AUDIT_RETENTION: '0' }, 'TESSERA_AUDIT_RETENTION'],
    [{ TESSERA_CLEANUP_INTERVAL: '0' }, 'TESSERA_CLEANUP_INTERVAL'],
    [{ TESSERA_REDIS_PREFIX: 'tessera *' }, 'TESSERA_REDIS_PREFIX'],
    [{ TESSERA_REDIS_URL: 'http://127.0.0.1:6379' }, 'TESSERA_REDIS_URL'],
    [{ TESSERA_HS256_SECRET: Buffer.alloc(31, 1).toString('base64url') }, 'TESSERA_HS256_SECRET'],
    [{ TESSERA_ACESS_TTL: '5m' }, 'TESSERA_ACESS_TTL'],
  ];
  for (const [env, variable] of cases) {
    assert.throws(
      () => loadConfig(env),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.variable === variable &&
        error.message.startsWith(`${variable}:`),
      JSON.stringify(env),
    );
  }
});

test('an optional JSON config file, overridden by the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
  try {
    const file = join(dir, 'tessera.json');
    writeFileSync(file, JSON.stringify({ TESSERA_ACCESS_TTL: '10m', TESSERA_PORT: 9100 }));
    const config = loadConfig({ TESSERA_CONFIG: file, TESSERA_PORT: '9200' });
    assert.equal(config.accessTtl, 600);
    assert.equal(config.port, 9200);
    writeFileSync(file, '{ not json');
    assert.throws(() => loadConfig({ TESSERA_CONFIG: file }), /TESSERA_CONFIG/);
    writeFileSync(file, JSON.stringify({ TESSERA_ACCESS_TTL: { nested: true } }));
    assert.throws(() => loadConfig({ TESSERA_CONFIG: file }), /TESSERA_ACCESS_TTL/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
