import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

/** RFC 6238 as every authenticator app reads it: HMAC-SHA-1, six digits, 30-second steps. */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted on either side of the current one (RFC 6238 §5.2: clock drift, slow typing). */
export const TOTP_WINDOW = 1;
/** 160 bits, the HMAC-SHA-1 block the RFC's reference secret has (RFC 4226 §4 R6: ≥ 128). */
const SECRET_BYTES = 20;

/** A new shared secret, base32 (what the otpauth URI and a manual entry carry). */
export function newTotpSecret(): string {
  return new Secret({ buffer: randomBytes(SECRET_BYTES).buffer }).base32;
}

/** The `otpauth://totp/...` URI an authenticator app enrols from (the QR code's content). */
export function totpUri({
  secret,
  issuer,
  account,
}: {
  secret: string;
  issuer: string;
  account: string;
}): string {
  return totp(secret, { issuer, label: account }).toString();
}

/** The code for the step holding `atMs` (tests, and the RFC's vectors). */
export function totpCode(secret: string, atMs: number, digits = TOTP_DIGITS): string {
  return totp(secret, { digits }).generate({ timestamp: atMs });
}

/**
 * The time step (`floor(t / 30 s)`) whose code `code` is, within one step either side of `nowMs`,
 * or `null`. Compared in constant time by the library. The step is what replay protection
 * records: a step once accepted, and every earlier one, is refused afterwards (`MfaStore`).
 */
export function matchTotp(secret: string, code: string, nowMs: number): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totp(secret).validate({ token: code, timestamp: nowMs, window: TOTP_WINDOW });
  return delta === null ? null : TOTP.counter({ period: TOTP_PERIOD_SECONDS, timestamp: nowMs }) + delta;
}

function totp(secret: string, options: { issuer?: string; label?: string; digits?: number } = {}): TOTP {
  return new TOTP({
    issuer: options.issuer ?? '',
    label: options.label ?? 'Tessera',
    secret: Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: options.digits ?? TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  });
}
