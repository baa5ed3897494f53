/**
 * The forged-access-token corpus (ATTACKS §1A–1C): every way of bending a Tessera access token
 * that a verifier must refuse, plus the few near-misses it must accept. Data, not a test: the
 * server's tests send each token over HTTP, and the verifier package's tests feed the same list to
 * their own `verify`, so both agree on one answer per case.
 *
 * Tokens are built from objects with `JSON.stringify` and signed with `node:crypto`; JSON text is
 * written by hand only where the case is the JSON text itself (duplicate members, `exp: 1e400`).
 */
import {
  constants,
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import type { JWK } from 'jose';

/** What the verifier must answer: the error code it refuses with, or `accepted`. */
export type Expectation = 'invalid_token' | 'token_expired' | 'accepted';

export interface ForgedTokenCase {
  /** The ATTACKS row, e.g. `ALG-07`. */
  id: string;
  variant: string;
  token: string;
  expect: Expectation;
}

export interface CorpusInput {
  /** A valid access token the server issued at `now`: its claims seed every case. */
  token: string;
  /** The server's public JWK Set, as served. */
  jwks: { keys: JWK[] };
  /** The server's real signing key, for the [KEY] cases (claim policy, header allowlist). */
  signingKey: { privateKey: KeyObject; kid: string; alg: string };
  issuer: string;
  audience: string;
  /** Seconds since the epoch, the verifier's current time. */
  now: number;
  /** Seconds of clock leeway the verifier allows (Tessera's default is 30). */
  leeway: number;
  /** Base URL of a loopback listener the `jku`/`x5u` cases point at (ATTACKS KID-06). */
  loopbackUrl: string;
}

type Json = Record<string, unknown>;
type Signer = (input: Buffer) => Buffer;

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');
const decodeSegment = (segment: string): Json =>
  JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as Json;

/** A compact JWS over `header` and `payload` (objects, or JSON text for the malformed cases). */
function jws(header: Json | string, payload: Json | string, signer: Signer | null): string {
  const text = (value: Json | string) => (typeof value === 'string' ? value : JSON.stringify(value));
  const input = `${b64url(text(header))}.${b64url(text(payload))}`;
  return `${input}.${signer ? b64url(signer(Buffer.from(input))) : ''}`;
}

// One signer per JWS `alg` (RFC 7518 §3): the digest and the signature encoding it implies.
const SIGNERS = new Map<string, (key: KeyObject) => Signer>([
  ['RS256', (key) => (input) => sign('sha256', input, key)],
  ['RS384', (key) => (input) => sign('sha384', input, key)],
  [
    'PS256',
    (key) => (input) =>
      sign('sha256', input, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }),
  ],
  ['ES256', (key) => (input) => sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' })],
  ['ES384', (key) => (input) => sign('sha384', input, { key, dsaEncoding: 'ieee-p1363' })],
  ['ES512', (key) => (input) => sign('sha512', input, { key, dsaEncoding: 'ieee-p1363' })],
  ['EdDSA', (key) => (input) => sign(null, input, key)],
  ['Ed25519', (key) => (input) => sign(null, input, key)],
]);

function signerFor(alg: string, key: KeyObject): Signer {
  const make = SIGNERS.get(alg);
  if (!make) throw new Error(`no signer for ${alg}`);
  return make(key);
}

/** HS256 by hand: jose refuses an empty key, and the empty key is the point of ALG-09 / KID-01. */
const hmac =
  (secret: string | Buffer): Signer =>
  (input) =>
    createHmac('sha256', secret).update(input).digest();

/** `{...obj}` without `name`: for the "claim missing" cases. */
function without(obj: Json, name: string): Json {
  const copy = { ...obj };
  delete copy[name];
  return copy;
}

/** JSON text of `obj` with one more member appended, possibly repeating a name (CLM-11). */
const appendMember = (obj: Json, nameText: string, valueText: string): string =>
  `${JSON.stringify(obj).slice(0, -1)},${nameText}:${valueText}}`;

interface AttackerKeys {
  rsa: KeyObject;
  p256: KeyObject;
  p384: KeyObject;
  p521: KeyObject;
  ed25519: KeyObject;
  ed448: KeyObject;
}
let attackerKeys: AttackerKeys | undefined;

/** The attacker's own key pairs (private halves), generated once per process. */
function attacker(): AttackerKeys {
  attackerKeys ??= {
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
    p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
    p521: generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey,
    ed25519: generateKeyPairSync('ed25519').privateKey,
    ed448: generateKeyPairSync('ed448').privateKey,
  };
  return attackerKeys;
}

/** The attacker key of the same family as the server's algorithm (KID-05, KID-06). */
function attackerKeyFor(alg: string): KeyObject {
  const keys = attacker();
  return alg === 'ES256' ? keys.p256 : alg === 'EdDSA' ? keys.ed25519 : keys.rsa;
}

const publicJwk = (key: KeyObject): JWK => createPublicKey(key).export({ format: 'jwk' });
/** A public key as the base64 DER an `x5c` entry holds (RFC 7515 §4.1.6). */
const spkiBase64 = (key: KeyObject): string =>
  createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64');

/**
 * The server's public key in every byte form an HS256 key-confusion attack tries as the HMAC
 * secret (ATTACKS ALG-07; fast-jwt's incomplete fixes fell to the whitespace and junk prefixes).
 */
function publicKeyForms(jwk: JWK): Array<[string, string | Buffer]> {
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const pem = key.export({ type: 'spki', format: 'pem' }) as string;
  const forms: Array<[string, string | Buffer]> = [
    ['SPKI PEM', pem],
    ['SPKI PEM without trailing newline', pem.trimEnd()],
    ['SPKI PEM with CRLF', pem.replaceAll('\n', '\r\n')],
    ['SPKI PEM with leading whitespace', ` \n${pem}`],
    ['SPKI PEM with a leading junk byte', `x${pem}`],
    ['SPKI DER', key.export({ type: 'spki', format: 'der' })],
    ['JWK JSON as served', JSON.stringify(jwk)],
  ];
  const part = (name: 'n' | 'x' | 'y') => Buffer.from(jwk[name] ?? '', 'base64url');
  if (jwk.kty === 'RSA') {
    forms.push(
      ['PKCS#1 PEM', key.export({ type: 'pkcs1', format: 'pem' })],
      ['PKCS#1 DER', key.export({ type: 'pkcs1', format: 'der' })],
      ['base64url n', jwk.n ?? ''],
      ['raw n bytes', part('n')],
    );
  } else if (jwk.kty === 'EC') {
    forms.push(
      ['uncompressed point 04||x||y', Buffer.concat([Buffer.from([4]), part('x'), part('y')])],
      ['base64url x', jwk.x ?? ''],
    );
  } else {
    forms.push(['raw 32-byte x', part('x')], ['base64url x', jwk.x ?? '']);
  }
  return forms;
}

/** An Ed25519 signature R‖S with S replaced by S + L, the group order (RFC 8032 §5.1.7). */
function ed25519PlusL(signature: string): Buffer {
  const bytes = Buffer.from(signature, 'base64url');
  const order = 2n ** 252n + 27742317777372353535851937790883648493n;
  let s = BigInt(`0x${Buffer.from(bytes.subarray(32)).reverse().toString('hex')}`) + order;
  for (let i = 32; i < 64; i++) {
    bytes[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  return bytes;
}

/** Flips the lowest of the unused low bits of the last base64url character (ALG-15 b). */
function flipUnusedBit(segment: string): string | null {
  const unusedBits = (segment.length * 6) % 8;
  if (unusedBits === 0) return null;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(segment.at(-1) ?? 'A');
  return segment.slice(0, -1) + (alphabet[last ^ 1] ?? '');
}

/**
 * Builds the corpus for one server. Every token keeps the real `sub` and `sid` unless the case is
 * about them, so a verifier that wrongly accepts a forgery shows up as a 200, not as a later 401.
 */
export function buildForgedAccessTokens(input: CorpusInput): ForgedTokenCase[] {
  const { token, jwks, signingKey, issuer, audience, now, leeway, loopbackUrl } = input;
  const [h = '', p = '', s = ''] = token.split('.');
  const original = decodeSegment(p);
  const ttl = Number(original['exp']) - Number(original['iat']);
  /** Claims with a consistent lifetime: `iat`/`nbf` at `iat`, `exp` at `iat + ttl`. */
  const issuedAt = (iat: number) => ({ iat, nbf: iat, exp: iat + ttl });
  // The original claims, re-dated to `now`, seed every token signed here.
  const claims: Json = { ...original, ...issuedAt(now) };
  const { alg, kid } = signingKey;
  const real = signerFor(alg, signingKey.privateKey);
  const header = { alg, kid, typ: 'at+jwt' };
  const serverJwk = jwks.keys.find((key) => key.kid === kid) ?? jwks.keys[0];
  if (!serverJwk) throw new Error('the JWKS has no key');

  /** A token signed with the real key, with `header` and `claims` changed. */
  const signed = (headerChanges: Json, claimChanges: Json = {}) =>
    jws({ ...header, ...headerChanges }, { ...claims, ...claimChanges }, real);
  const hs256 = (headerChanges: Json, secret: string | Buffer) =>
    jws({ ...header, alg: 'HS256', ...headerChanges }, claims, hmac(secret));
  const sigOf = (compact: string) => compact.split('.')[2] ?? '';

  // ALG-16 needs a signature that uses `-` or `_`; ES256/EdDSA ones sometimes don't, so re-sign
  // (fresh `jti`) until one does.
  let urlAlphabetToken = token;
  for (let i = 0; !/[-_]/.test(sigOf(urlAlphabetToken)) && i < 100; i++) {
    urlAlphabetToken = signed({}, { jti: randomBytes(16).toString('base64url') });
  }
  const [uh = '', up = '', us = ''] = urlAlphabetToken.split('.');
  const standardSig = us.replaceAll('-', '+').replaceAll('_', '/');

  const flippedSig = Buffer.from(s, 'base64url');
  const middle = flippedSig.length >> 1;
  flippedSig.writeUInt8(flippedSig.readUInt8(middle) ^ 0x01, middle);
  const unusedBitsSig = flipUnusedBit(s);
  const tampered = (changes: Json) => `${h}.${b64url(JSON.stringify({ ...original, ...changes }))}.${s}`;
  const keys = attacker();
  const fakeSegment = (bytes: number) => b64url(randomBytes(bytes));
  /** The original header and payload under another signature. */
  const withSignature = (signature: string | Buffer) =>
    `${h}.${p}.${typeof signature === 'string' ? signature : b64url(signature)}`;

  const cases: ForgedTokenCase[] = [];
  const add = (id: string, variant: string, forged: string, expect: Expectation = 'invalid_token') => {
    cases.push({ id, variant, token: forged, expect });
  };

  // ALG-01/02: `none`, in every spelling, with the signature dropped or kept (RFC 8725 §3.1).
  add('ALG-01', 'alg none, empty signature', jws({ ...header, alg: 'none' }, claims, null));
  add(
    'ALG-01',
    'alg none, no kid, sub changed',
    jws({ alg: 'none', typ: 'at+jwt' }, { ...claims, sub: 'x' }, null),
  );
  for (const none of ['None', 'NONE', 'nOnE', 'none ']) {
    add(
      'ALG-02',
      `alg ${JSON.stringify(none)}, empty signature`,
      jws({ ...header, alg: none }, claims, null),
    );
    add(
      'ALG-02',
      `alg ${JSON.stringify(none)}, signature kept`,
      `${jws({ ...header, alg: none }, claims, null)}${s}`,
    );
  }
  // ALG-03: `alg` absent or not a string, over a valid signature by the real key.
  add('ALG-03', 'alg missing', jws(without(header, 'alg'), claims, real));
  for (const odd of ['', null, 0, true, [alg], {}]) {
    add('ALG-03', `alg ${JSON.stringify(odd)}`, signed({ alg: odd }));
  }
  add('ALG-04', 'signature stripped', withSignature(''));
  add('ALG-05', 'last 4 signature characters dropped', withSignature(s.slice(0, -4)));
  add('ALG-05', 'one signature bit flipped', withSignature(flippedSig));
  add('ALG-05', 'signature of another valid token', withSignature(sigOf(signed({}, { jti: 'another' }))));
  add('ALG-06', 'role changed to admin, signature kept', tampered({ role: 'admin' }));
  add('ALG-06', 'exp extended by a day, signature kept', tampered({ exp: Number(original['exp']) + 86400 }));
  add('ALG-06', 'sub changed, signature kept', tampered({ sub: 'admin' }));
  // ALG-07: HS256 keyed with the server's public key, in every byte form (RFC 8725 §2.1).
  for (const [form, secret] of publicKeyForms(serverJwk)) {
    add('ALG-07', `HS256 keyed with the public key as ${form}`, hs256({}, secret));
  }
  // ALG-08: other algorithms, signed with the attacker's own keys, naming the real kid.
  const foreign: Array<[string, string, KeyObject]> = [
    ['RS256', 'RSA 2048', keys.rsa],
    ['RS384', 'RSA 2048', keys.rsa],
    ['PS256', 'RSA 2048', keys.rsa],
    ['ES256', 'P-256', keys.p256],
    ['ES384', 'P-384', keys.p384],
    ['ES512', 'P-521', keys.p521],
    ['EdDSA', 'Ed25519', keys.ed25519],
    ['EdDSA', 'Ed448', keys.ed448],
    ['Ed25519', 'Ed25519', keys.ed25519],
  ];
  for (const [foreignAlg, family, key] of foreign) {
    add(
      'ALG-08',
      `${foreignAlg} with an attacker ${family} key`,
      jws({ ...header, alg: foreignAlg }, claims, signerFor(foreignAlg, key)),
    );
  }
  // ALG-09: blank and well-known HMAC secrets (jwt_tool's jwt-common.txt, first entries).
  for (const secret of ['', 'secret', 'password', 'changeme', 'your-256-bit-secret', '123456', 'tessera']) {
    add('ALG-09', `HS256 with secret ${JSON.stringify(secret)}`, hs256({}, secret));
  }
  // ALG-11/12/14: signature encodings that only some libraries get wrong, for the curve in use.
  if (alg === 'ES256') {
    const n = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
    const zero = Buffer.alloc(32);
    add('ALG-11', 'psychic signature r = s = 0', withSignature(Buffer.concat([zero, zero])));
    add('ALG-11', 'r = s = n', withSignature(Buffer.concat([n, n])));
    add('ALG-11', 'r = n, s = 0', withSignature(Buffer.concat([n, zero])));
    const der = sign('sha256', Buffer.from(`${h}.${p}`), { key: signingKey.privateKey, dsaEncoding: 'der' });
    add('ALG-12', 'valid signature re-encoded as ASN.1 DER', withSignature(der));
  }
  if (alg === 'EdDSA') add('ALG-14', 'S + L (non-canonical S)', withSignature(ed25519PlusL(s)));
  // ALG-15: one token, one spelling (RFC 7515 §2, §5.2): jose alone accepts all of these.
  add('ALG-15', 'signature padded with ==', `${token}==`);
  if (unusedBitsSig) add('ALG-15', 'unused low bits of the last char changed', withSignature(unusedBitsSig));
  add('ALG-15', 'space inside the signature', withSignature(`${s.slice(0, 8)} ${s.slice(8)}`));
  add('ALG-15', 'newline inside the signature', withSignature(`${s.slice(0, 8)}\n${s.slice(8)}`));
  add('ALG-15', 'trailing newline', `${token}\n`);
  add('ALG-16', 'signature in the standard base64 alphabet', `${uh}.${up}.${standardSig}`);
  add(
    'ALG-16',
    'signature in padded standard base64',
    `${uh}.${up}.${Buffer.from(us, 'base64url').toString('base64')}`,
  );
  // ALG-17/18: valid signatures over headers outside the allowlist {alg, kid, typ}.
  add('ALG-17', 'crit ["x-foo"] with x-foo present', signed({ crit: ['x-foo'], 'x-foo': 1 }));
  add('ALG-17', 'crit ["exp"]', signed({ crit: ['exp'] }));
  add('ALG-17', 'crit []', signed({ crit: [] }));
  add('ALG-17', 'crit naming an absent parameter', signed({ crit: ['x-missing'] }));
  add('ALG-18', 'b64 false without crit', signed({ b64: false }));
  add('ALG-18', 'zip DEF', signed({ zip: 'DEF' }));
  add('ALG-18', 'cty JWT (nested)', signed({ cty: 'JWT' }));
  add('ALG-18', 'x5c holding an attacker key', signed({ x5c: [spkiBase64(keys.rsa)] }));
  add('ALG-18', 'unknown member foo', signed({ foo: 'bar' }));
  // ALG-19: JWE-shaped tokens must be refused before anything is decrypted.
  const jwe = (jweHeader: Json) =>
    [b64url(JSON.stringify(jweHeader)), ...[256, 12, 64, 16].map(fakeSegment)].join('.');
  add('ALG-19', '5-segment RSA-OAEP-256 JWE', jwe({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid }));
  add(
    'ALG-19',
    'PBES2 JWE with p2c 2^31-1',
    jwe({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', p2c: 2147483647, p2s: fakeSegment(16) }),
  );
  add('ALG-19', 'dir JWE with zip DEF', jwe({ alg: 'dir', enc: 'A256GCM', zip: 'DEF' }));
  // ALG-20: JSON serializations are not bearer tokens (CVE-2022-39227's mixed form included).
  add('ALG-20', 'flattened JSON serialization', JSON.stringify({ protected: h, payload: p, signature: s }));
  add(
    'ALG-20',
    'general JSON serialization',
    JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] }),
  );
  const adminPayload = b64url(JSON.stringify({ ...original, role: 'admin' }));
  add(
    'ALG-20',
    'mixed compact + JSON (python-jwt)',
    JSON.stringify({ [`${h}.${adminPayload}.`]: '', protected: h, payload: p, signature: s }),
  );
  add('ALG-21', 'two segments', `${h}.${p}`);
  add('ALG-21', 'four segments', `${token}.${s}`);
  add('ALG-21', 'trailing dot (h.p.s.)', `${token}.`);
  add('ALG-21', '8 000 dots', '.'.repeat(8000));
  add('ALG-21', 'valid token followed by 5 000 dots', `${token}${'.'.repeat(5000)}`);
  add('ALG-21', '100 000 dots', '.'.repeat(100_000));

  // KID-01..03: hostile kids, HS256 with the secret a file or database lookup would yield.
  for (const path of ['../../../../../../dev/null', '/dev/null', '/invalid_path', '../../package.json']) {
    add('KID-01', `kid ${path}, HS256 with ""`, hs256({ kid: path }, ''));
  }
  add('KID-02', 'kid SQL injection, HS256 with "1"', hs256({ kid: "x' UNION SELECT '1';--" }, '1'));
  add('KID-02', 'kid SQL injection, real key', signed({ kid: "x' UNION SELECT '1';--" }));
  for (const command of ['|sleep 10', '$(sleep 10)', '`sleep 10`']) {
    add('KID-03', `kid ${command}, HS256 with ""`, hs256({ kid: command }, ''));
  }
  // KID-04: odd kids over a valid signature by the real key.
  add('KID-04', 'unknown kid', signed({ kid: 'unknown-kid' }));
  add('KID-04', 'no kid', jws(without(header, 'kid'), claims, real));
  for (const odd of [123, {}, null]) add('KID-04', `kid ${JSON.stringify(odd)}`, signed({ kid: odd }));
  // Keys live in a Map: a kid naming an Object.prototype member must find nothing (STYLE habit 1).
  for (const inherited of ['__proto__', 'constructor', 'toString']) {
    add('KID-04', `kid ${inherited}`, signed({ kid: inherited }));
  }
  add('KID-04', '10 000-character kid', signed({ kid: 'k'.repeat(10_000) }));
  // KID-05/06: the token names its own key; the verifier must never take it, nor fetch it.
  const attackerKey = attackerKeyFor(alg);
  const byAttacker = (headerChanges: Json, key = attackerKey, keyAlg = alg) =>
    jws({ ...header, alg: keyAlg, ...headerChanges }, claims, signerFor(keyAlg, key));
  for (const keyAlg of new Set([alg, 'RS256', 'EdDSA'])) {
    const key = attackerKeyFor(keyAlg);
    add('KID-05', `embedded jwk, ${keyAlg} attacker key`, byAttacker({ jwk: publicJwk(key) }, key, keyAlg));
  }
  add('KID-06', 'jku pointing at a loopback listener', byAttacker({ jku: `${loopbackUrl}/jwks.json` }));
  add('KID-06', 'x5u pointing at a loopback listener', byAttacker({ x5u: `${loopbackUrl}/cert.pem` }));
  add('KID-06', 'x5c holding the attacker key', byAttacker({ x5c: [spkiBase64(attackerKey)] }));
  add('KID-07', 'real kid, alg HS256 with ""', hs256({}, ''));

  // CLM-01: expiry against the leeway boundary (RFC 7519 §4.1.4: now must be before exp + leeway).
  add('CLM-01', 'expired an hour ago', signed({}, issuedAt(now - 3600 - ttl)), 'token_expired');
  add('CLM-01', 'exp = now - leeway - 1', signed({}, issuedAt(now - leeway - 1 - ttl)), 'token_expired');
  add('CLM-01', 'exp = now - leeway', signed({}, issuedAt(now - leeway - ttl)), 'token_expired');
  add('CLM-01', 'exp = now - leeway + 1', signed({}, issuedAt(now - leeway + 1 - ttl)), 'accepted');
  add('CLM-02', 'no exp', jws(header, without(claims, 'exp'), real));
  add('CLM-03', 'exp as a string', signed({}, { exp: String(now + ttl) }));
  add(
    'CLM-03',
    'exp 1e400 (Infinity)',
    jws(header, appendMember(without(claims, 'exp'), '"exp"', '1e400'), real),
  );
  add('CLM-03', 'exp beyond iat + TTL', signed({}, { exp: now + ttl + 1 }));
  add('CLM-04', 'nbf an hour ahead', signed({}, { nbf: now + 3600 }));
  add('CLM-04', 'nbf = now + leeway + 1', signed({}, { nbf: now + leeway + 1 }));
  add('CLM-05', 'iat an hour ahead', signed({}, { iat: now + 3600, exp: now + 3600 + ttl }));
  add('CLM-06', 'another issuer', signed({}, { iss: 'https://evil.example' }));
  add('CLM-06', 'issuer in upper case', signed({}, { iss: issuer.toUpperCase() }));
  add('CLM-06', 'issuer with a trailing slash', signed({}, { iss: `${issuer}/` }));
  add('CLM-06', 'issuer as an array holding ours', signed({}, { iss: [issuer] }));
  add('CLM-07', 'audience of another service', signed({}, { aud: 'https://other-service.example' }));
  add('CLM-07', 'no aud', jws(header, without(claims, 'aud'), real));
  add(
    'CLM-07',
    'aud array containing ours',
    signed({}, { aud: ['https://b.example', audience] }),
    'accepted',
  );
  // CLM-08: explicit typing (RFC 9068 §4); the media type is case-insensitive (RFC 2045 §5.1).
  add('CLM-08', 'typ JWT', signed({ typ: 'JWT' }));
  add('CLM-08', 'typ missing', jws(without(header, 'typ'), claims, real));
  add('CLM-08', 'typ id_token+jwt', signed({ typ: 'id_token+jwt' }));
  add('CLM-08', 'typ application/at+jwt', signed({ typ: 'application/at+jwt' }), 'accepted');
  add('CLM-08', 'typ AT+JWT', signed({ typ: 'AT+JWT' }), 'accepted');
  for (const payload of ['[]', 'null', '123', '"str"', JSON.stringify([claims])]) {
    add('CLM-10', `payload ${payload.length > 8 ? '[claims]' : payload}`, jws(header, payload, real));
  }
  add('CLM-10', 'header as an array', jws(JSON.stringify([header]), claims, real));
  // CLM-11: duplicate members: JSON.parse keeps the last, another parser may keep the first.
  add('CLM-11', 'sub twice in the payload', jws(header, appendMember(claims, '"sub"', '"admin"'), real));
  add('CLM-11', 'sub twice, once escaped', jws(header, appendMember(claims, '"s\\u0075b"', '"admin"'), real));
  add('CLM-11', 'role twice in the payload', jws(header, appendMember(claims, '"role"', '"admin"'), real));
  add(
    'CLM-11',
    'alg twice in the header (none, then real)',
    jws(appendMember({ ...header, alg: 'none' }, '"alg"', JSON.stringify(alg)), claims, real),
  );
  // CLM-13: prototype keys are plain own members after JSON.parse; they must change nothing.
  const proto = { role: 'admin', isAdmin: true };
  add('CLM-13', '__proto__ claim with role admin', signed({}, { ['__proto__']: proto }), 'accepted');
  add('CLM-13', 'constructor.prototype claim', signed({}, { constructor: { prototype: proto } }), 'accepted');
  return cases;
}
