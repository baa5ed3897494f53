import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidTokenError } from '@tessera/protocol';
import { checkClaims } from '../src/claims.ts';

// The claims a token of issue 14 adds (RFC 8176 `amr`, OIDC Core `auth_time`), on a payload whose
// signature is taken as checked.
const NOW = 1_800_000_000_000;
const policy = {
  issuer: 'https://auth.test',
  audience: 'https://auth.test',
  clockSkew: 30,
  maxTokenAge: 900,
};
const iat = NOW / 1000;
const base = {
  iss: policy.issuer,
  aud: policy.audience,
  sub: 'user-1',
  sid: 'session-1',
  jti: 'jti-1',
  role: 'user',
  scope: 'profile',
  iat,
  nbf: iat,
  exp: iat + 900,
};

test('amr and auth_time come through when present and well formed; absent, they stay absent', () => {
  const claims = checkClaims({ ...base, amr: ['pwd', 'otp', 'mfa'], auth_time: iat - 3600 }, policy, NOW);
  assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
  assert.equal(claims.auth_time, iat - 3600);
  const older = checkClaims(base, policy, NOW);
  assert.equal('amr' in older, false);
  assert.equal('auth_time' in older, false);
});

test('a malformed amr or a future auth_time makes the token invalid', () => {
  for (const extra of [
    { amr: 'pwd' },
    { amr: ['pwd', 1] },
    { auth_time: 'yesterday' },
    { auth_time: iat + 3600 },
    { auth_time: 1.5 },
  ]) {
    assert.throws(
      () => checkClaims({ ...base, ...extra }, policy, NOW),
      InvalidTokenError,
      JSON.stringify(extra),
    );
  }
});
