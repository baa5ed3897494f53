import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RevocationList } from '../src/sessions/revocation-list.ts';

test('a revoked session is refused until its last access token plus the leeway, then forgotten', () => {
  const list = new RevocationList(30_000);
  list.add({ sessionId: 's1', userId: 'u', revokedAt: 0, accessExpiresAt: 900_000 });
  assert.equal(list.has('s1', 929_999), true, 'inside exp + leeway');
  assert.equal(list.has('s1', 930_000), false, 'nothing it covers can still verify');
  assert.equal(list.has('other', 0), false);
  assert.equal(list.prune(929_999), 1);
  assert.equal(list.prune(930_000), 0, 'pruned once expired: memory stays bounded');
});

test('a later revocation of the same session never shortens the window', () => {
  const list = new RevocationList(0);
  list.add({ sessionId: 's', userId: 'u', revokedAt: 0, accessExpiresAt: 2_000 });
  list.add({ sessionId: 's', userId: 'u', revokedAt: 0, accessExpiresAt: 1_000 });
  assert.equal(list.has('s', 1_500), true);
});
