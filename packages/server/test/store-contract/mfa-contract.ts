import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../src/stores/store.ts';
import { MINUTE, randomHash, seedSession, T0 } from './fixtures.ts';

/**
 * Second factors' part of the store contract (issue 14): a factor pending until confirmed, every
 * use a compare-and-set (a code is accepted once, on every store), recovery codes once each.
 * `store()` is the whole store of the running test (factors belong to users).
 */
export function mfaContract(store: () => Store): void {
  describe('second factors', () => {
    const codes = (count: number): string[] => Array.from({ length: count }, () => randomHash());

    test('a factor is pending until confirmed; a pending one is replaced, an active one is not', async () => {
      const { user } = await seedSession(store());
      const mfa = store().mfa;
      assert.deepEqual(await mfa.getFactors(user.id), { totp: null, recoveryCodesLeft: 0 });
      assert.equal(await mfa.startTotp(user.id, 'sealed-1', T0), true);
      assert.equal(
        await mfa.startTotp(user.id, 'sealed-2', T0 + 1),
        true,
        'a new enrolment replaces a pending one',
      );
      assert.deepEqual(await mfa.getFactors(user.id), {
        totp: { secretSealed: 'sealed-2', createdAt: T0 + 1, confirmedAt: null, lastStep: null },
        recoveryCodesLeft: 0,
      });
      assert.equal(await mfa.useTotpStep(user.id, 100, T0), false, 'a pending factor cannot be used');
      assert.equal(
        await mfa.confirmTotp(user.id, 'sealed-1', 100, codes(10), T0 + MINUTE),
        false,
        'only the secret the code was checked against',
      );
      assert.equal(await mfa.confirmTotp(user.id, 'sealed-2', 100, codes(10), T0 + MINUTE), true);
      assert.equal(await mfa.confirmTotp(user.id, 'sealed-2', 101, codes(10), T0 + MINUTE), false, 'once');
      assert.deepEqual(await mfa.getFactors(user.id), {
        totp: { secretSealed: 'sealed-2', createdAt: T0 + 1, confirmedAt: T0 + MINUTE, lastStep: 100 },
        recoveryCodesLeft: 10,
      });
      assert.equal(
        await mfa.startTotp(user.id, 'sealed-3', T0 + 2 * MINUTE),
        false,
        'the active factor stays',
      );
      assert.equal((await mfa.getFactors(user.id)).totp?.secretSealed, 'sealed-2');
    });

    test('a step is accepted once, and never after a later one; concurrent uses of one code: one wins', async () => {
      const { user } = await seedSession(store());
      const mfa = store().mfa;
      await mfa.startTotp(user.id, 'sealed', T0);
      await mfa.confirmTotp(user.id, 'sealed', 100, [], T0);
      assert.equal(await mfa.useTotpStep(user.id, 100, T0), false, 'the confirming code counts as used');
      assert.equal(await mfa.useTotpStep(user.id, 102, T0), true);
      assert.equal(await mfa.useTotpStep(user.id, 101, T0), false, 'an older code after a newer one');
      const results = await Promise.all(Array.from({ length: 10 }, () => mfa.useTotpStep(user.id, 103, T0)));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await mfa.getFactors(user.id)).totp?.lastStep, 103);
      const other = await seedSession(store());
      assert.equal(await mfa.useTotpStep(other.user.id, 200, T0), false, 'no factor, no use');
    });

    test('recovery codes: each once, concurrently too; a new set kills the old; removal ends both', async () => {
      const { user } = await seedSession(store());
      const mfa = store().mfa;
      const first = codes(3);
      assert.equal(await mfa.replaceRecoveryCodes(user.id, first, T0), false, 'no active factor yet');
      await mfa.startTotp(user.id, 'sealed', T0);
      await mfa.confirmTotp(user.id, 'sealed', 100, first, T0);
      const spends = await Promise.all(
        Array.from({ length: 10 }, () => mfa.useRecoveryCode(user.id, first[0]!, T0)),
      );
      assert.equal(spends.filter(Boolean).length, 1);
      assert.equal((await mfa.getFactors(user.id)).recoveryCodesLeft, 2);
      const other = await seedSession(store());
      assert.equal(await mfa.useRecoveryCode(other.user.id, first[1]!, T0), false, "another user's code");

      const second = codes(3);
      assert.equal(await mfa.replaceRecoveryCodes(user.id, second, T0 + MINUTE), true);
      assert.equal(await mfa.useRecoveryCode(user.id, first[1]!, T0), false, 'the old set died');
      assert.equal(await mfa.useRecoveryCode(user.id, second[1]!, T0), true);
      assert.equal((await mfa.getFactors(user.id)).recoveryCodesLeft, 2);

      assert.equal(await mfa.removeFactors(user.id), true);
      assert.deepEqual(await mfa.getFactors(user.id), { totp: null, recoveryCodesLeft: 0 });
      assert.equal(await mfa.useRecoveryCode(user.id, second[2]!, T0), false);
      assert.equal(await mfa.removeFactors(user.id), false);
    });
  });
}
