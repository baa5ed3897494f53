/**
 * JWS ES256 signatures are R‖S, 32 bytes each (RFC 7518 §3.4); OpenSSL wants DER. Node converts
 * when given `{ key, dsaEncoding: 'ieee-p1363' }`, but on Node 24 that options object makes
 * `crypto.verify` measurably slower than a bare `KeyObject` with a DER signature converted here
 * (see docs/benchmarks.md), so the raw limit converts by hand. `undefined` for a wrong length.
 */
export function p1363ToDer(signature: Buffer): Buffer | undefined {
  if (signature.length !== 64) return undefined;
  const r = integer(signature.subarray(0, 32));
  const s = integer(signature.subarray(32));
  // At most 2 × 35 bytes of content: the one-byte short length form always fits.
  return Buffer.concat([Buffer.from([0x30, r.length + s.length]), r, s]);
}

/** A DER INTEGER: minimal big-endian, with a zero byte in front when the top bit is set. */
function integer(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  const value = bytes.subarray(start);
  const pad = ((value[0] ?? 0) & 0x80) !== 0 ? 1 : 0;
  const out = Buffer.alloc(2 + pad + value.length);
  out[0] = 0x02;
  out[1] = pad + value.length;
  value.copy(out, 2 + pad);
  return out;
}
