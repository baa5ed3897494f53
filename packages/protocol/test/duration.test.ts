import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../src/index.ts';

test('durations in every documented form', () => {
  assert.equal(parseDuration('900'), 900);
  assert.equal(parseDuration('900s'), 900);
  assert.equal(parseDuration('15m'), 900);
  assert.equal(parseDuration('12h'), 43200);
  assert.equal(parseDuration('7d'), 604800);
  assert.equal(parseDuration('0'), 0);
});

test('anything else is refused, not guessed', () => {
  for (const bad of [
    '',
    '-5',
    '1.5m',
    '15 minutes',
    '15M',
    '1w',
    'm',
    '15mm',
    '0x10',
    '1e3',
    '99999999999d',
  ]) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
});
