import type { UserRecord } from '../accounts/account-store.ts';

/**
 * Sessions, their refresh tokens and the revocation log: in the SQL store, or in Redis in front
 * of it. See `accounts/account-store.ts` for why each store implements both parts together.
 */
export interface SessionStore {
  /**
   * Creates a session with its first refresh token (`null` when "keep me logged in" is off), only
   * while the user's password hash and role are still the ones login read and the user is enabled,
   * so a login racing a password change, a disable or a role change can never leave a session (and
   * an access token with the old role) behind. `false` when it was not.
   */
  createSession(
    session: SessionRecord,
    token: RefreshTokenRecord | null,
    verified: VerifiedLogin,
  ): Promise<boolean>;
  getSession(id: string): Promise<SessionRecord | null>;
  listActiveSessions(userId: string, now: number): Promise<SessionRecord[]>;
  findSessionByRefreshToken(hash: string): Promise<SessionRecord | null>;
  /** Reads the presented token and its session, asks `decide`, applies the answer: one atomic step. */
  rotateRefreshToken(request: RotationRequest): Promise<RotationOutcome>;
  /** Revokes one session; `null` when it does not exist or was already revoked. */
  revokeSession(id: string, reason: RevokeReason, now: number): Promise<RevokedSession | null>;
  revokeUserSessions(userId: string, reason: RevokeReason, now: number): Promise<RevokedSession[]>;
  /**
   * Revocations committed after `cursor` (0: from the start) whose access tokens may still be
   * unexpired (`accessExpiresAt > after`), with the cursor to ask from next time.
   */
  listRevocations(after: number, cursor: number): Promise<{ cursor: number; revoked: RevokedSession[] }>;
  /**
   * Calls `listener` with each batch of revocations committed by any instance sharing the store,
   * as soon as it is committed (Redis pub/sub). Best effort: a batch sent while the subscription
   * is down is not repeated, so `listRevocations` polling stays the source of truth. Absent where
   * polling is the only way. Returns the function that unsubscribes.
   */
  onRevoked?(listener: (revoked: RevokedSession[]) => void): () => void;
}

/** What a login read of the user and mints its token from: `createSession` re-checks both. */
export type VerifiedLogin = Pick<UserRecord, 'passwordHash' | 'role'>;

export interface SessionRecord {
  id: string;
  userId: string;
  createdAt: number;
  lastUsedAt: number;
  /** Absolute end, fixed at login and never extended. */
  expiresAt: number;
  /** End if unused: the current refresh token's expiry (capped by `expiresAt`). */
  idleExpiresAt: number;
  /** `exp` of the latest access token issued in this session (ms). */
  accessExpiresAt: number;
  revokedAt: number | null;
  revokeReason: RevokeReason | null;
  userAgent: string | null;
  ip: string | null;
  /**
   * How the user signed in, as RFC 8176 method values (`pwd`, `otp`, `mfa`): every access token of
   * the session carries them as `amr`, refreshed ones too.
   */
  amr: string[];
  /** When the user signed in (ms): `auth_time` of every access token of the session (OIDC Core §2). */
  authTime: number;
}

export type RevokeReason =
  | 'logout'
  | 'logout_all'
  | 'session_deleted'
  | 'password_changed'
  | 'reuse_detected'
  | 'early_refresh'
  | 'user_disabled'
  | 'role_changed'
  | 'admin_revoked'
  /** A second factor was turned on: sessions begun without it end (issue 14). */
  | 'mfa_enabled';

export interface RefreshTokenRecord {
  /** SHA-256 of the token, base64url. The token itself is never stored. */
  hash: string;
  sessionId: string;
  parentHash: string | null;
  createdAt: number;
  expiresAt: number;
  consumedAt: number | null;
  /** Hash of the token this one was rotated into. */
  successorHash: string | null;
  /** The successor token, sealed with a key only the holder of this token can derive (grace). */
  successorSealed: string | null;
}

/** What the rotation policy sees: the presented token, its session and its successor, if any. */
export interface RotationState {
  token: RefreshTokenRecord;
  session: SessionRecord;
  successor: RefreshTokenRecord | null;
}

export type RotationDecision =
  | { kind: 'rotate'; successorExpiresAt: number }
  | { kind: 'grace' }
  | { kind: 'reuse'; reason: 'reuse_detected' | 'early_refresh' }
  | { kind: 'reject'; code: 'invalid_grant' | 'session_expired'; reason: string };

export interface RotationRequest {
  presentedHash: string;
  now: number;
  /** The successor to store if the decision is `rotate`. */
  successor: { hash: string; sealedForPresented: string };
  /** `exp` (ms) of the access token that will be issued on success. */
  accessExpiresAt: number;
  decide(state: RotationState | null): RotationDecision;
}

export type RotationOutcome =
  | { kind: 'rotated'; session: SessionRecord; token: RefreshTokenRecord }
  | { kind: 'grace'; session: SessionRecord; current: RefreshTokenRecord; sealedCurrent: string }
  | { kind: 'reused'; revoked: RevokedSession }
  | { kind: 'rejected'; code: 'invalid_grant' | 'session_expired'; reason: string };

export interface RevokedSession {
  sessionId: string;
  userId: string;
  revokedAt: number;
  accessExpiresAt: number;
}
