import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CODES } from '@tessera/protocol';

test('docs/errors.md documents every error code with its status, and nothing else', () => {
  const page = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
  const rows = new Map<string, number>();
  for (const match of page.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm))
    rows.set(match[1] ?? '', Number(match[2]));
  const documented = Object.fromEntries(rows);
  const implemented = Object.fromEntries(
    Object.entries(ERROR_CODES).map(([code, entry]) => [code, entry.status]),
  );
  assert.deepEqual(documented, implemented);
});

test('codes are snake_case and messages are sentences without internals', () => {
  for (const [code, entry] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^[a-z]+(_[a-z]+)*$/);
    assert.match(entry.message, /^[A-Z][^{}<>]+$/);
  }
});
