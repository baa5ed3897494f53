import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Secret } from 'otpauth';
import { matchTotp, newTotpSecret, totpCode, totpUri } from '../src/mfa/totp.ts';

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890"; codes are
// eight digits there. Six-digit codes are the same values' last six digits (RFC 4226 §5.3).
const RFC_SECRET = Secret.fromLatin1('12345678901234567890').base32;
const RFC_VECTORS: Array<[seconds: number, code: string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

test('RFC 6238 Appendix B vectors (SHA-1), in eight digits and in the six an app shows', () => {
  for (const [seconds, code] of RFC_VECTORS) {
    assert.equal(totpCode(RFC_SECRET, seconds * 1000, 8), code, `T = ${seconds}`);
    assert.equal(totpCode(RFC_SECRET, seconds * 1000), code.slice(2), `T = ${seconds}, six digits`);
  }
});

test('a code matches its own step and one either side, never two away; the step is returned', () => {
  const secret = newTotpSecret();
  const now = 1_700_000_015_000;
  const step = Math.floor(now / 30_000);
  assert.equal(matchTotp(secret, totpCode(secret, now), now), step);
  assert.equal(matchTotp(secret, totpCode(secret, now - 30_000), now), step - 1);
  assert.equal(matchTotp(secret, totpCode(secret, now + 30_000), now), step + 1);
  assert.equal(matchTotp(secret, totpCode(secret, now - 60_000), now), null);
  assert.equal(matchTotp(secret, totpCode(secret, now + 60_000), now), null);
  for (const malformed of ['', '12345', '1234567', 'abcdef', ' 12345'])
    assert.equal(matchTotp(secret, malformed, now), null);
});

test('secrets are 160 random bits in base32; the URI is the one authenticator apps read', () => {
  const secret = newTotpSecret();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.notEqual(newTotpSecret(), secret);
  const uri = new URL(totpUri({ secret, issuer: 'Tessera', account: 'ada@example.test' }));
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.host, 'totp');
  assert.equal(decodeURIComponent(uri.pathname), '/Tessera:ada@example.test');
  assert.equal(uri.searchParams.get('secret'), secret);
  assert.equal(uri.searchParams.get('issuer'), 'Tessera');
  assert.equal(uri.searchParams.get('digits'), '6');
  assert.equal(uri.searchParams.get('period'), '30');
});
