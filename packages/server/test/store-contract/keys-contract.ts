import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyStore } from '../../src/stores/keys/key-store.ts';
import { DAY, keyRecord, T0 } from './fixtures.ts';

/** The signing keys' part of the store contract; `keys()` is the part of the running test's store. */
export function keysContract(keys: () => KeyStore): void {
  describe('keys', () => {
    test('add stores keys in activation order and retires the ones it replaces', async () => {
      const first = keyRecord({ activatesAt: T0 });
      const second = keyRecord({ activatesAt: T0 + DAY, publicJwk: null, alg: 'HS256' });
      await keys().add(second, []);
      await keys().add(first, []);
      assert.deepEqual(await keys().list(), [first, second]);

      const third = keyRecord({ activatesAt: T0 + 2 * DAY });
      await keys().add(third, [
        { kid: first.kid, retiresAt: T0 + 3 * DAY },
        { kid: second.kid, retiresAt: T0 + 3 * DAY },
        { kid: 'no-such-kid', retiresAt: T0 },
      ]);
      // A later rotation never postpones a retirement already set.
      await keys().add(keyRecord({ activatesAt: T0 + 4 * DAY }), [
        { kid: first.kid, retiresAt: T0 + 9 * DAY },
      ]);
      const listed = await keys().list();
      assert.deepEqual(
        listed.map((key) => [key.kid, key.retiresAt]),
        [
          [first.kid, T0 + 3 * DAY],
          [second.kid, T0 + 3 * DAY],
          [third.kid, null],
          [listed[3]?.kid, null],
        ],
      );
    });

    test('add is atomic: a duplicate kid fails and retires nothing', async () => {
      const first = keyRecord();
      await keys().add(first, []);
      await assert.rejects(keys().add(keyRecord({ kid: first.kid }), [{ kid: first.kid, retiresAt: T0 }]));
      assert.deepEqual(await keys().list(), [first]);
    });
  });
}
