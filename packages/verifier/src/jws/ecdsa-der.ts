/**
 * A JWS ES256 signature, R‖S of 32 bytes each (RFC 7518 §3.4), as the DER `ECDSA-Sig-Value`
 * OpenSSL takes (RFC 3279 §2.2.3); `undefined` unless exactly 64 bytes, so a DER or BER signature
 * sent in the token is refused (ATTACKS ALG-12). Converting here rather than passing
 * `{ key, dsaEncoding: 'ieee-p1363' }` to `crypto.verify` lets the key go bare, which on Node 24
 * verifies measurably faster (docs/design.md, "Verifier performance").
 */
export function p1363ToDer(signature: Buffer): Buffer | undefined {
  if (signature.length !== 64) return undefined;
  const rStart = firstSignificant(signature, 0);
  const sStart = firstSignificant(signature, 32);
  // A DER INTEGER is minimal and signed: a zero byte goes in front when the top bit is set.
  const rPad = (signature[rStart] as number) >= 0x80 ? 1 : 0;
  const sPad = (signature[sStart] as number) >= 0x80 ? 1 : 0;
  const rLength = 32 - rStart + rPad;
  const sLength = 64 - sStart + sPad;
  // At most 2 × (2 + 33) = 70 bytes of content: the one-byte short length form always fits.
  const der = Buffer.alloc(6 + rLength + sLength);
  der[0] = 0x30;
  der[1] = 4 + rLength + sLength;
  der[2] = 0x02;
  der[3] = rLength;
  signature.copy(der, 4 + rPad, rStart, 32);
  const s = 4 + rLength;
  der[s] = 0x02;
  der[s + 1] = sLength;
  signature.copy(der, s + 2 + sPad, sStart, 64);
  return der;
}

/** Where the minimal encoding of the 32-byte integer at `start` begins (zero keeps one byte). */
function firstSignificant(bytes: Buffer, start: number): number {
  let index = start;
  while (index < start + 31 && bytes[index] === 0) index += 1;
  return index;
}
