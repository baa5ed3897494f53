import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/index.ts';
import { SealedValueError, SecretBox } from '../src/secrets/secret-box.ts';
import { loadSecretKeys } from '../src/secrets/secret-keys.ts';

const key = (): Buffer => Buffer.from(SecretBox.generateKey(), 'base64url');

test('a sealed value opens only with its context, and not at all once altered', () => {
  const box = new SecretBox([key()]);
  const sealed = box.seal('JBSWY3DPEHPK3PXP', 'totp:user-1');
  assert.match(sealed, /^v1\.[\w-]{8}\.[\w-]{16}\.[\w-]+$/);
  assert.doesNotMatch(sealed, /JBSWY3DPEHPK3PXP/);
  assert.notEqual(box.seal('JBSWY3DPEHPK3PXP', 'totp:user-1'), sealed, 'a fresh IV each time');
  assert.equal(box.open(sealed, 'totp:user-1'), 'JBSWY3DPEHPK3PXP');
  assert.throws(() => box.open(sealed, 'totp:user-2'), SealedValueError, "another user's row");
  const [version, id, iv, body] = sealed.split('.');
  const flipped = Buffer.from(body!, 'base64url');
  flipped[0]! ^= 1;
  for (const altered of [
    [version, id, iv, flipped.toString('base64url')].join('.'),
    [version, id, iv].join('.'),
    ['v2', id, iv, body].join('.'),
    `${sealed}.more`,
    'not sealed at all',
  ])
    assert.throws(() => box.open(altered, 'totp:user-1'), SealedValueError, altered);
});

test('rotation: the new key seals, the old still opens what it sealed; a third key opens nothing', () => {
  const [old, next, other] = [key(), key(), key()];
  const before = new SecretBox([old]).seal('secret', 'ctx');
  const rotated = new SecretBox([next, old]);
  assert.equal(rotated.open(before, 'ctx'), 'secret');
  assert.equal(rotated.isStale(before), true, 'to be sealed again with the new key');
  assert.equal(rotated.isStale(rotated.seal('secret', 'ctx')), false);
  assert.throws(() => new SecretBox([other]).open(before, 'ctx'), SealedValueError);
});

test('TESSERA_SECRET_KEY: comma-separated 32-byte base64url keys, checked at start', () => {
  const [a, b] = [SecretBox.generateKey(), SecretBox.generateKey()];
  const config = loadConfig({ TESSERA_SECRET_KEY: `${a}, ${b}` });
  assert.deepEqual(
    config.secretKeys.map((entry) => entry.toString('base64url')),
    [a, b],
  );
  assert.deepEqual(loadConfig({}).secretKeys, []);
  for (const bad of ['short', `${a},tooshort`, `${a}!`])
    assert.throws(() => loadConfig({ TESSERA_SECRET_KEY: bad }), /TESSERA_SECRET_KEY/);
});

test('the embedded default keeps a key file beside the database, mode 0600, made once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-secret-'));
  try {
    const url = `sqlite:${join(dir, 'tessera.db')}`;
    const first = loadSecretKeys([], url);
    assert.equal(first.origin, 'file');
    assert.equal(first.created, true);
    assert.equal(first.file, join(dir, 'secret.key'));
    assert.equal(statSync(first.file).mode & 0o777, 0o600);
    assert.equal(first.exposed, false);
    assert.match(readFileSync(first.file, 'utf8'), /^[\w-]{43}\n$/);
    const sealed = first.box!.seal('secret', 'ctx');
    chmodSync(first.file, 0o644);
    const second = loadSecretKeys([], url);
    assert.equal(second.created, false);
    assert.equal(second.exposed, true, 'a key file others can read is reported');
    assert.equal(second.box!.open(sealed, 'ctx'), 'secret', 'the same key on the next start');

    const fromEnv = loadSecretKeys([key()], url);
    assert.equal(fromEnv.origin, 'env');
    assert.equal(loadSecretKeys([], 'sqlite::memory:').origin, 'memory');
    assert.deepEqual(loadSecretKeys([], 'postgres://db/tessera'), { box: null, origin: 'none' });
  } finally {
    rmSync(dir, { recursive: true });
  }
});
