import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CounterStore } from '../../src/stores/counters/counter-store.ts';
import { MINUTE, SECOND, T0 } from './fixtures.ts';

/**
 * The rate-limit counters' part of the store contract, wherever they live (memory on SQLite,
 * PostgreSQL, Redis); `counters()` is the part of the running test's store.
 */
export function countersContract(counters: () => CounterStore): void {
  describe('rate-limit counters', () => {
    test('a fixed window from the first hit, reset once it is over; peek and clear', async () => {
      const window = MINUTE;
      assert.equal(await counters().peek('login:a', T0), null);
      assert.deepEqual(await counters().hit('login:a', window, T0), { count: 1, resetAt: T0 + window });
      assert.deepEqual(await counters().hit('login:a', window, T0 + SECOND), {
        count: 2,
        resetAt: T0 + window,
      });
      assert.deepEqual(await counters().hit('login:b', window, T0 + SECOND), {
        count: 1,
        resetAt: T0 + SECOND + window,
      });
      assert.deepEqual(await counters().peek('login:a', T0 + 2 * SECOND), {
        count: 2,
        resetAt: T0 + window,
      });
      assert.equal(await counters().peek('login:a', T0 + window), null, 'the window is over');
      assert.deepEqual(await counters().hit('login:a', window, T0 + window), {
        count: 1,
        resetAt: T0 + 2 * window,
      });
      await counters().clear('login:a');
      assert.equal(await counters().peek('login:a', T0 + window), null);
      assert.deepEqual(await counters().peek('login:b', T0 + 2 * SECOND), {
        count: 1,
        resetAt: T0 + SECOND + window,
      });
      await counters().clear('never-hit');
    });

    test('concurrent hits are each counted exactly once', async () => {
      const counts = await Promise.all(
        Array.from({ length: 50 }, () => counters().hit('ip:198.51.100.7', MINUTE, T0)),
      );
      assert.deepEqual(
        counts.map((counter) => counter.count).sort((a, b) => a - b),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      assert.deepEqual(await counters().peek('ip:198.51.100.7', T0), {
        count: 50,
        resetAt: T0 + MINUTE,
      });
    });
  });
}
