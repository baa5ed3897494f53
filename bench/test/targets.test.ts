import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoadSummary } from '../src/load/load.ts';
import { summarize } from '../src/stats.ts';
import { evaluateTargets, renderTargets, type TargetInputs } from '../src/targets.ts';

const load = (rate: number, p99 = 5): LoadSummary => ({
  requestsPerSecond: summarize([rate]),
  p50: 1,
  p99,
  p99Runs: [p99],
  failures: 0,
});

const verifyRow = (alg: string, name: string, rate: number) => ({
  alg,
  name,
  cache: false,
  opsPerSecond: summarize([rate]),
  cores: 1,
  toRaw: undefined,
});

const meRow = (name: string, rate: number) => ({
  name,
  what: '',
  load: load(rate),
  toRawRoute: undefined,
  toBare: undefined,
});

function inputs(overrides: { tesseraMe?: number; esP99?: number; edVerifier?: number } = {}): TargetInputs {
  const serial = ['RS256', 'ES256', 'EdDSA', 'HS256'].flatMap((alg) => [
    verifyRow(alg, 'raw node:crypto (sync)', 1000),
    verifyRow(alg, 'tessera verifier (sync)', alg === 'EdDSA' ? (overrides.edVerifier ?? 950) : 950),
    verifyRow(alg, 'jose jwtVerify', 500),
    verifyRow(alg, 'fast-jwt (cache off)', 900),
    verifyRow(alg, 'jsonwebtoken', 700),
  ]);
  return {
    verify: { tokens: 1, runMs: 1, runs: 1, inFlight: 64, serial, concurrent: [] },
    me: {
      alg: 'RS256',
      connections: 50,
      duration: 8,
      runs: 5,
      rows: [
        meRow('tessera', overrides.tesseraMe ?? 9000),
        meRow('fastify-raw', 10000),
        meRow('fastify-raw-threadpool', 8000),
        meRow('fastify-jose-importjwk', 8500),
        meRow('fastify-jose-remote-jwks', 8400),
        meRow('better-auth', 800),
      ],
    },
    refresh: {
      store: 'SQLite (WAL, synchronous=FULL), RS256',
      sessions: 100,
      connections: 50,
      duration: 8,
      runs: 5,
      load: load(2500, 30),
      variants: [
        { store: 'SQLite (WAL, synchronous=FULL), ES256', load: load(4000, overrides.esP99 ?? 20) },
        { store: 'PostgreSQL + Redis, RS256', load: load(1000, 80) },
      ],
    },
    login: {
      concurrency: 8,
      rawArgon2PerSecond: summarize([50]),
      loginsPerSecond: load(48),
      toRaw: 0.96,
      meRate: 1000,
      meAlone: load(1000, 10),
      meUnderFlood: load(1000, 15),
    },
    revocation: {
      trials: 10,
      pollMs: 5,
      fromLogoutSent: { p50: 5, p99: 20, max: 30 },
      fromLogoutAcknowledged: { p50: 3, p99: 10, max: 12 },
      pollRoundTrip: { p50: 1, p99: 2, max: 3 },
      targetMs: 1000,
    },
  };
}

const verdict = (rows: ReturnType<typeof evaluateTargets>, start: string) =>
  rows.find((row) => row.target.startsWith(start))?.met;

test('each target is judged against its own baseline from the stored results', () => {
  const rows = evaluateTargets(inputs());
  assert.equal(verdict(rows, 'Verifier EdDSA ≥ 0.90×'), true);
  assert.equal(verdict(rows, 'Verifier RS256 ahead of'), true);
  // The limit is the faster of the two raw routes (10,000), so 9,000 is 0.90×.
  assert.equal(verdict(rows, '`GET /auth/me` ≥ 0.85×'), true);
  assert.equal(verdict(rows, '`GET /auth/me` ≥ 1.0× Fastify + jose (`importJWK`)'), true);
  assert.equal(verdict(rows, '`GET /auth/me` ≥ 1.0× Fastify + jose (`createRemoteJWKSet`)'), true);
  assert.equal(verdict(rows, "`GET /auth/me` ≥ 10× Better Auth's"), true);
  assert.equal(
    verdict(
      rows,
      'Refresh ≥ 3,000/s with p99 < 25 ms at 50 connections: SQLite (WAL, synchronous=FULL), ES256',
    ),
    true,
  );
  assert.equal(
    verdict(
      rows,
      'Refresh ≥ 3,000/s with p99 < 25 ms at 50 connections: SQLite (WAL, synchronous=FULL), RS256',
    ),
    false,
  );
  assert.equal(rows.filter((row) => row.target.includes('PostgreSQL')).length, 0, 'the target is for SQLite');
  assert.equal(verdict(rows, 'Login ≥ 0.90×'), true);
  assert.equal(verdict(rows, '`/auth/me` p99 under a login flood'), true);
  assert.equal(verdict(rows, 'Revocation'), true);
});

test('a result on the wrong side of a target is reported as not met', () => {
  const rows = evaluateTargets(inputs({ tesseraMe: 8400, esP99: 25, edVerifier: 890 }));
  assert.equal(verdict(rows, 'Verifier EdDSA ≥ 0.90×'), false);
  assert.equal(verdict(rows, 'Verifier EdDSA ahead of'), false, '890 is behind fast-jwt at 900');
  assert.equal(verdict(rows, '`GET /auth/me` ≥ 0.85×'), false);
  assert.equal(verdict(rows, '`GET /auth/me` ≥ 1.0× Fastify + jose'), false);
  assert.equal(
    verdict(
      rows,
      'Refresh ≥ 3,000/s with p99 < 25 ms at 50 connections: SQLite (WAL, synchronous=FULL), ES256',
    ),
    false,
  );
  assert.match(
    renderTargets(inputs({ tesseraMe: 8400 })),
    /3 of \d+ not met in these runs; each gap is explained/,
  );
});

test('a case that has not run is "not measured", never met', () => {
  const rows = evaluateTargets({});
  assert.ok(rows.length > 0);
  assert.ok(rows.every((row) => row.met === undefined));
  assert.match(renderTargets({}), /\| not measured \|/);
});
