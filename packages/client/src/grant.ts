import type { TokenSet } from './storage.ts';

/** The user as the API presents it (`GET /auth/me`, login and refresh responses). */
export interface User {
  id: string;
  email: string;
  name: string | null;
  role: string;
  /** Whether the owner proved the address (an emailed link); optional for older servers. */
  emailVerified?: boolean;
  createdAt: string;
}

/** One of the user's sessions (`GET /auth/sessions`). */
/** `GET /auth/mfa`: the signed-in user's second factors. */
export interface MfaStatus {
  totp: 'active' | 'pending' | 'none';
  recoveryCodesLeft: number;
}

/** A pending TOTP factor: for an authenticator app, as a QR code (`data:` URL) or typed in. */
export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
  qrCode: string;
}

/** A set of recovery codes, shown once. */
export interface RecoveryCodes {
  recoveryCodes: string[];
}

export interface SessionInfo {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

/** A login or refresh answer, turned into what the client keeps. */
export interface Grant {
  tokens: TokenSet;
  user: User;
  /** Server clock minus local clock, in ms, when the answer tells (token `iat` or `Date`). */
  serverOffset: number | null;
}

/**
 * Reads a login or refresh body (SPEC §4). Expiry times are anchored at `sentAt`, the moment the
 * request left: the server computed `expiresIn` after that, so the local estimate errs early,
 * never late. In cookie mode any token in the body is dropped: cookie mode keeps none in script.
 */
export function readGrant(
  body: unknown,
  sentAt: number,
  receivedAt: number,
  date: string | null,
  cookie: boolean,
): Grant {
  const { accessToken, refreshToken, expiresIn, refreshExpiresIn, user } = (body ?? {}) as Record<
    string,
    unknown
  >;
  if (typeof expiresIn !== 'number' || typeof user !== 'object' || user === null)
    throw new TypeError('Unexpected token response from the server');
  if (!cookie && typeof accessToken !== 'string')
    throw new TypeError('The token response has no access token');
  const tokens: TokenSet = { expiresAt: sentAt + expiresIn * 1000 };
  if (typeof refreshExpiresIn === 'number') tokens.refreshExpiresAt = sentAt + refreshExpiresIn * 1000;
  if (!cookie) {
    tokens.accessToken = accessToken as string;
    if (typeof refreshToken === 'string') tokens.refreshToken = refreshToken;
    else delete tokens.refreshExpiresAt;
  }
  return {
    tokens,
    user: user as User,
    serverOffset: serverOffset(tokens.accessToken, date, (sentAt + receivedAt) / 2),
  };
}

/**
 * The server's clock minus ours. The token's `iat` comes from the clock that will judge its `exp`,
 * so it wins; the `Date` header (readable cross-origin only when the server exposes it) is next.
 * Both have one-second resolution, plenty for refresh leads of several seconds.
 */
function serverOffset(
  accessToken: string | undefined,
  date: string | null,
  localMidpoint: number,
): number | null {
  const iat = accessToken === undefined ? undefined : decodeClaims(accessToken)?.['iat'];
  if (typeof iat === 'number') return iat * 1000 - localMidpoint;
  const serverNow = date === null ? NaN : Date.parse(date);
  return Number.isNaN(serverNow) ? null : serverNow - localMidpoint;
}

/** The claims of a compact JWT, unverified: for timing only, never for a trust decision. */
export function decodeClaims(token: string): Record<string, unknown> | null {
  const payload = token.split('.')[1];
  if (payload === undefined) return null;
  try {
    const base64 = payload.replaceAll('-', '+').replaceAll('_', '/');
    const binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '='));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
