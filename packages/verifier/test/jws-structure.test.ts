import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hasDuplicateKeys } from '../src/jws/json-duplicates.ts';
import { isCanonicalBase64url } from '../src/jws/base64url.ts';
import { MalformedTokenError, precheckAccessToken } from '../src/tokens.ts';

/**
 * The structural pre-checks' fast paths against references that are obviously right: canonical
 * base64url against "decode, re-encode, compare" (Node's encoder writes canonical base64url only),
 * the duplicate-member proof against a scan that decodes every member name; and the header cache
 * never lets a header skip a check.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const canonicalReference = (segment: string): boolean =>
  segment.length > 0 && Buffer.from(segment, 'base64url').toString('base64url') === segment;

/** The reference duplicate scan: every member name decoded with `JSON.parse`, kept per object. */
function duplicatesReference(json: string): boolean {
  let found = false;
  const scopes: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < json.length && !found; i++) {
    const char = json[i];
    if (char === '"') {
      let end = i + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      if (expectKey) {
        const keys = scopes.at(-1);
        const key = JSON.parse(json.slice(i, end + 1)) as string;
        found = keys?.has(key) ?? false;
        keys?.add(key);
        expectKey = false;
      }
      i = end;
    } else if (char === '{') {
      scopes.push(new Set());
      expectKey = true;
    } else if (char === '[') {
      scopes.push(null);
    } else if (char === '}' || char === ']') {
      scopes.pop();
      expectKey = false;
    } else if (char === ',') {
      expectKey = scopes.at(-1) != null;
    }
  }
  return found;
}

describe('canonical base64url (RFC 7515 §2; ATTACKS ALG-15, ALG-16)', () => {
  test('agrees with decode-and-re-encode on arbitrary strings', () => {
    const chars = fc.constantFrom(...`${ALPHABET}+/= \n\t.é\u0000`);
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 12 }), (segment) => {
        assert.equal(isCanonicalBase64url(segment), canonicalReference(segment), JSON.stringify(segment));
      }),
      { numRuns: 5000 },
    );
  });

  test('accepts every encoding of bytes and refuses it with any other last character', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.constantFrom(...ALPHABET),
        (bytes, last) => {
          const segment = Buffer.from(bytes).toString('base64url');
          assert.equal(isCanonicalBase64url(segment), true);
          const respelled = segment.slice(0, -1) + last;
          assert.equal(isCanonicalBase64url(respelled), canonicalReference(respelled));
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('refuses padding, whitespace, the standard alphabet and the empty segment', () => {
    for (const segment of ['', 'QQ==', 'QQ=', 'QUI ', 'QU\nI', 'Q+8', 'Q/8', 'Q', 'QR', 'QUJ'])
      assert.equal(isCanonicalBase64url(segment), false, segment);
  });
});

describe('duplicate members (RFC 7515 §4; ATTACKS CLM-11)', () => {
  const cases: Array<[string, boolean]> = [
    ['{"a":1,"a":2}', true],
    ['{"a":1,"\\u0061":2}', true],
    ['{"a":"x\\":","b":1}', false],
    ['{"a" : 1 ,\n "b":{"c":1,"c":2}}', true],
    ['{"a":[{"x":1},{"x":1}]}', false],
    ['{"a":[{"x":1,"x":1}]}', true],
    ['{"__proto__":1,"__proto__":2}', true],
    ['{"a\\\\":1,"a\\\\":2}', true],
    ['{"a\\\\":1,"a":2}', false],
    ['{"a":"\\\\","a":1}', true],
    ['{"":1,"":2}', true],
    ['{}', false],
    ['{"a":1,"b":"x,y"}', false],
    ['{"a":[1,2],"a":3}', true],
    ['{"a":{"b":1},"a":{"b":2}}', true],
    ['{"a":{"b":1,"c":2},"d":[1,2]}', false],
  ];
  for (const [json, expected] of cases) {
    test(`${json} → ${expected}`, () => {
      assert.equal(hasDuplicateKeys(json, JSON.parse(json) as object), expected);
      assert.equal(duplicatesReference(json), expected);
    });
  }

  /** Random JSON objects as text, member names drawn from `names`, with spacing and nesting. */
  const texts = (names: string[]) =>
    fc.letrec<{ value: string; object: string }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue({ maxDepth: 0 }).map((v) => JSON.stringify(v)),
        tie('object'),
        fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`),
      ),
      object: fc
        .array(fc.tuple(fc.constantFrom(...names), tie('value'), fc.constantFrom('', ' ', '\n')), {
          maxLength: 6,
        })
        .map((members) => `{${members.map(([n, v, ws]) => `"${n}"${ws}:${ws}${v}`).join(',')}}`),
    })).object;
  const agrees = (json: string) => {
    assert.equal(hasDuplicateKeys(json, JSON.parse(json) as object), duplicatesReference(json), json);
  };

  test('agrees with a scan that decodes every name: plain names', () => {
    fc.assert(fc.property(texts(['a', 'b', 'sub', 'x:y', '__proto__', '']), agrees), { numRuns: 5000 });
  });

  test('agrees with a scan that decodes every name: escaped names', () => {
    // `"\\"` before `"\u0061"` in one object shape once made V8 name the second `\` (Node 24.21).
    const names = ['a', 'b', '\\u0061', '\\u0062', 'a\\"', '\\\\', '__proto__', 'x:y'];
    fc.assert(fc.property(texts(names), agrees), { numRuns: 5000 });
  });
});

describe('the checked-header cache', () => {
  const segment = (header: unknown): string => Buffer.from(JSON.stringify(header)).toString('base64url');
  const token = (header: unknown, payload: unknown = { sub: 'a' }): string =>
    `${segment(header)}.${segment(payload)}.${Buffer.alloc(32, 1).toString('base64url')}`;
  const good = { alg: 'ES256', kid: 'cache-test', typ: 'at+jwt' };

  test('the alg allow-list applies on every call, cached or not', () => {
    const es256 = new Set(['ES256']);
    assert.equal(precheckAccessToken(token(good), es256).header.alg, 'ES256');
    assert.throws(() => precheckAccessToken(token(good), new Set(['RS256'])), MalformedTokenError);
  });

  test('one frozen header object per header segment', () => {
    const algorithms = new Set(['ES256']);
    const first = precheckAccessToken(token(good, { n: 1 }), algorithms).header;
    const second = precheckAccessToken(token(good, { n: 2 }), algorithms).header;
    assert.equal(first, second);
    assert.ok(Object.isFrozen(first));
  });

  test('a refused header is refused again, and a full cache keeps answering the same', () => {
    const algorithms = new Set(['ES256']);
    const bad = token({ ...good, jku: 'http://127.0.0.1/' });
    for (let i = 0; i < 2; i++) assert.throws(() => precheckAccessToken(bad, algorithms), /jku/);
    for (let i = 0; i < 200; i++) {
      const header = precheckAccessToken(token({ ...good, kid: `k${i}` }), algorithms).header;
      assert.equal(header.kid, `k${i}`);
    }
    assert.equal(precheckAccessToken(token(good), algorithms).header.kid, 'cache-test');
    assert.throws(() => precheckAccessToken(bad, algorithms), /jku/);
  });

  test('payload and signature segments are held to canonical base64url too', () => {
    const algorithms = new Set(['ES256']);
    const valid = token(good);
    precheckAccessToken(valid, algorithms);
    for (const respelled of [
      `${valid}==`,
      `${valid} `,
      `${valid}.`,
      valid.replace('.', '=.'),
      `${valid.slice(0, -1)}/`,
    ])
      assert.throws(() => precheckAccessToken(respelled, algorithms), MalformedTokenError, respelled);
  });
});
