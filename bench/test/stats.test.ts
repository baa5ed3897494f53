import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, percentile, ratio, summarize } from '../src/stats.ts';

test('median of an odd count is the middle value, of an even count the mean of the middle two', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
});

test('percentiles interpolate between the closest ranks and do not reorder the input', () => {
  const values = [50, 10, 40, 20, 30];
  assert.equal(percentile(values, 0), 10);
  assert.equal(percentile(values, 100), 50);
  assert.equal(percentile(values, 25), 20);
  assert.equal(percentile(values, 99), 49.6);
  assert.deepEqual(values, [50, 10, 40, 20, 30]);
});

test('percentile refuses an empty list and an out-of-range p', () => {
  assert.throws(() => percentile([], 50), RangeError);
  assert.throws(() => percentile([1], 101), RangeError);
  assert.throws(() => percentile([1], Number.NaN), RangeError);
});

test('summarize reports the median, the extremes and the spread relative to the median', () => {
  const summary = summarize([90, 100, 110]);
  assert.equal(summary.median, 100);
  assert.equal(summary.min, 90);
  assert.equal(summary.max, 110);
  assert.equal(summary.spread, 0.2);
  assert.deepEqual(summary.runs, [90, 100, 110]);
  assert.equal(summarize([0, 0]).spread, 0);
});

test('ratio has no value without a baseline', () => {
  assert.equal(ratio(50, 100), 0.5);
  assert.equal(ratio(50, undefined), undefined);
  assert.equal(ratio(50, 0), undefined);
});
