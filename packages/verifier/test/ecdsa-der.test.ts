import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { p1363ToDer } from '../src/tokens.ts';

// RFC 7515 Appendix A.3: the ES256 example (public half of the key, signing input, signature).
const A3 = {
  jwk: {
    kty: 'EC',
    crv: 'P-256',
    x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
    y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  },
  input:
    'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ',
  signature: 'DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q',
  // A.3.1: the signature's R and S as octet sequences.
  r: [
    14, 209, 33, 83, 121, 99, 108, 72, 60, 47, 127, 21, 88, 7, 212, 2, 163, 178, 40, 3, 58, 249, 124, 126, 23,
    129, 154, 195, 22, 158, 166, 101,
  ],
  s: [
    197, 10, 7, 211, 140, 60, 112, 229, 216, 241, 45, 175, 8, 74, 84, 128, 166, 101, 144, 197, 242, 147, 80,
    154, 143, 63, 127, 138, 131, 163, 84, 213,
  ],
};

/** Node's own conversion is the reference: `dsaEncoding: 'ieee-p1363'` on the same key. */
function nodeAccepts(key: ReturnType<typeof createPublicKey>, data: Buffer, signature: Buffer): boolean {
  return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

describe('p1363ToDer: JWS ES256 signatures (R‖S) to DER', () => {
  test('RFC 7515 A.3: the example signature verifies with the bare key once converted', () => {
    const key = createPublicKey({ key: A3.jwk, format: 'jwk' });
    const raw = Buffer.from(A3.signature, 'base64url');
    const der = p1363ToDer(raw);
    assert.ok(der);
    // S starts with 197 (top bit set), so its INTEGER gets a leading zero byte; R (14…) does not.
    const r = Buffer.from(A3.r).toString('hex');
    const s = Buffer.from(A3.s).toString('hex');
    assert.equal(der.toString('hex'), `30450220${r}022100${s}`);
    assert.equal(verify('sha256', Buffer.from(A3.input), key, der), true);
    assert.equal(verify('sha256', Buffer.from(`${A3.input}x`), key, der), false);
  });

  test('minimal INTEGERs: leading zeros dropped, a zero byte before a set top bit, zero kept as 0', () => {
    const r = Buffer.alloc(32);
    r[2] = 0x80; // two leading zero bytes, then the top bit set
    const s = Buffer.alloc(32); // zero: encoded as one 0x00 byte
    const der = p1363ToDer(Buffer.concat([r, s]));
    assert.equal(der?.toString('hex'), `3024021f00${r.subarray(2).toString('hex')}020100`);
  });

  test('anything but 64 bytes is not a JWS ES256 signature (ATTACKS ALG-12)', () => {
    for (const length of [0, 1, 63, 65, 70, 71, 72, 96, 132])
      assert.equal(p1363ToDer(Buffer.alloc(length)), undefined);
  });

  test('agrees with Node’s ieee-p1363 handling on valid, tampered and special signatures', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const data = Buffer.from('tessera');
    const n = Buffer.from('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551', 'hex');
    const special = [
      Buffer.alloc(64), // r = s = 0 (CVE-2022-21449, ATTACKS ALG-11)
      Buffer.concat([n, n]),
      Buffer.concat([n, Buffer.alloc(32)]),
      Buffer.alloc(64, 0xff),
    ];
    const signatures = [...special];
    for (let i = 0; i < 200; i += 1) {
      const good = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      signatures.push(good);
      const tampered = Buffer.from(good);
      tampered[i % 64] = (tampered[i % 64] as number) ^ 1;
      signatures.push(tampered);
    }
    let valid = 0;
    for (const signature of signatures) {
      const der = p1363ToDer(signature);
      assert.ok(der);
      const ours = verify('sha256', data, publicKey, der);
      assert.equal(ours, nodeAccepts(publicKey, data, signature), signature.toString('hex'));
      if (ours) valid += 1;
    }
    assert.equal(valid, 200);
  });
});
