import { decodeCanonical } from './base64url.ts';
import { parseJsonObject } from './json-object.ts';
import { MalformedTokenError } from './malformed-token-error.ts';

/** The protected header of an access token, after the structural checks. */
export interface AccessTokenHeader {
  readonly alg: string;
  readonly kid: string;
  readonly typ: string;
}

const MEMBERS = new Set(['alg', 'kid', 'typ']);
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt']);

// Every token signed with one key carries the same header segment, so the result of checking it
// is kept, keyed by the exact segment text (canonical base64url: one header, one spelling). A few
// entries compared with `===`, which costs less than hashing the segment for a `Map`; replaced in
// turn, so headers made up by an attacker only evict, and each costs one parse.
const CACHE_ENTRIES = 8;
const CACHE_SEGMENT_LENGTH = 512;
const checked: Array<{ segment: string; header: AccessTokenHeader }> = [];
let nextSlot = 0;

/**
 * The header segment of a compact JWS, checked: a JSON object with only `alg`, `kid`, `typ` — no
 * `jwk`, `jku`, `x5u`, `x5c`, `crit`, `b64` or `zip` (RFC 8725 §3.10; ATTACKS ALG-17, ALG-18,
 * KID-05, KID-06) — a string `alg` (the caller checks it against its allow-list), a `kid` of 1–128
 * characters and `typ` `at+jwt` (RFC 9068 §4). Frozen: one object serves every token with that
 * header.
 */
export function readHeader(segment: string): AccessTokenHeader {
  for (const entry of checked) if (entry.segment === segment) return entry.header;
  const header = checkHeader(parseJsonObject(decodeCanonical(segment), 'header'));
  if (segment.length <= CACHE_SEGMENT_LENGTH) {
    checked[nextSlot] = { segment, header };
    nextSlot = (nextSlot + 1) % CACHE_ENTRIES;
  }
  return header;
}

function checkHeader(header: Record<string, unknown>): AccessTokenHeader {
  for (const name of Object.keys(header)) {
    if (!MEMBERS.has(name)) throw new MalformedTokenError(`header member "${name}" not allowed`);
  }
  const { alg, kid, typ } = header;
  if (typeof alg !== 'string') throw new MalformedTokenError('alg not allowed');
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > 128)
    throw new MalformedTokenError('bad kid');
  if (typeof typ !== 'string' || !ACCESS_TOKEN_TYPES.has(typ.toLowerCase())) {
    throw new MalformedTokenError('typ is not at+jwt');
  }
  return Object.freeze({ alg, kid, typ });
}
