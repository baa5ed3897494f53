import assert from 'node:assert/strict';
import { test } from 'node:test';
import { residentMiB } from '../src/load/rss.ts';
import { seededRefreshToken } from '../src/servers/seed-sessions.ts';

test('seeded refresh tokens have the shape Tessera accepts, and differ by index', () => {
  // The server's own check (packages/server/src/tokens/refresh-token.ts): a token of another shape
  // is refused before any lookup, which would make the memory case measure refusals.
  const format = /^tsr1_[A-Za-z0-9_-]{43}$/;
  assert.match(seededRefreshToken(0), format);
  assert.match(seededRefreshToken(999_999), format);
  assert.notEqual(seededRefreshToken(1), seededRefreshToken(2));
  assert.equal(seededRefreshToken(7), seededRefreshToken(7));
});

test('the resident size of a live process is read from /proc', { skip: process.platform !== 'linux' }, () => {
  const mib = residentMiB(process.pid);
  assert.ok(mib > 1 && mib < 100_000, `${mib} MiB`);
});
