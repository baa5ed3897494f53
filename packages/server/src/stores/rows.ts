import type {
  AuditAction,
  AuditDetail,
  AuditEntry,
  AuditRecord,
  KeyRecord,
  RefreshTokenRecord,
  RevokeReason,
  RevokedSession,
  Role,
  SessionRecord,
  UserRecord,
} from './store.ts';

/**
 * A row as either SQL driver returns it. Both stores share these mappings: `node:sqlite` gives
 * numbers for INTEGER columns, `pg` gives strings for BIGINT ones, and `Number` reads both (every
 * stored time is a millisecond count far below 2^53).
 */
export type Row = Record<string, unknown>;

export const text = (value: unknown): string =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
export const textOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const int = (value: unknown): number => Number(value);
const intOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

export function userFromRow(row: Row): UserRecord {
  return {
    id: text(row['id']),
    email: text(row['email']),
    name: textOrNull(row['name']),
    passwordHash: text(row['password_hash']),
    role: text(row['role']) as Role,
    createdAt: int(row['created_at']),
    updatedAt: int(row['updated_at']),
    disabledAt: intOrNull(row['disabled_at']),
    emailVerifiedAt: intOrNull(row['email_verified_at']),
  };
}

export function sessionFromRow(row: Row): SessionRecord {
  return {
    id: text(row['id']),
    userId: text(row['user_id']),
    createdAt: int(row['created_at']),
    lastUsedAt: int(row['last_used_at']),
    expiresAt: int(row['expires_at']),
    idleExpiresAt: int(row['idle_expires_at']),
    accessExpiresAt: int(row['access_expires_at']),
    revokedAt: intOrNull(row['revoked_at']),
    revokeReason: textOrNull(row['revoke_reason']) as RevokeReason | null,
    userAgent: textOrNull(row['user_agent']),
    ip: textOrNull(row['ip']),
    // Sessions begun before migration 12 were password logins.
    amr: amrOf(textOrNull(row['amr'])),
    authTime: intOrNull(row['auth_time']) ?? int(row['created_at']),
  };
}

/** `amr` as stored: the method values, space-separated (none of them holds a space). */
export function amrOf(stored: string | null): string[] {
  return stored === null || stored === '' ? ['pwd'] : stored.split(' ');
}

export function tokenFromRow(row: Row): RefreshTokenRecord {
  return {
    hash: text(row['hash']),
    sessionId: text(row['session_id']),
    parentHash: textOrNull(row['parent_hash']),
    createdAt: int(row['created_at']),
    expiresAt: int(row['expires_at']),
    consumedAt: intOrNull(row['consumed_at']),
    successorHash: textOrNull(row['successor_hash']),
    successorSealed: textOrNull(row['successor_sealed']),
  };
}

export function keyFromRow(row: Row): KeyRecord {
  return {
    kid: text(row['kid']),
    alg: text(row['alg']),
    privateJwk: text(row['private_jwk']),
    publicJwk: textOrNull(row['public_jwk']),
    createdAt: int(row['created_at']),
    activatesAt: int(row['activates_at']),
    retiresAt: intOrNull(row['retires_at']),
  };
}

/** A revoked session as the `UPDATE … RETURNING id, user_id, revoked_at, access_expires_at` gives it. */
export function revokedFromRow(row: Row): RevokedSession {
  return {
    sessionId: text(row['id']),
    userId: text(row['user_id']),
    revokedAt: int(row['revoked_at']),
    accessExpiresAt: int(row['access_expires_at']),
  };
}

/** The revocation entry of a session already revoked (reuse of a token of a revoked session). */
export function revokedFrom(session: SessionRecord): RevokedSession {
  return {
    sessionId: session.id,
    userId: session.userId,
    revokedAt: session.revokedAt ?? 0,
    accessExpiresAt: session.accessExpiresAt,
  };
}

/** A value as both drivers bind it. */
export type Value = string | number | null;

/** Columns of `users` in the order `userValues` gives them (inserts of both stores). */
export const USER_COLUMNS =
  'id, email, name, password_hash, role, created_at, updated_at, disabled_at, email_verified_at';

export function userValues(user: UserRecord): Value[] {
  return [
    user.id,
    user.email,
    user.name,
    user.passwordHash,
    user.role,
    user.createdAt,
    user.updatedAt,
    user.disabledAt,
    user.emailVerifiedAt,
  ];
}

/** Columns of `refresh_tokens` in the order `tokenValues` gives them. */
export const TOKEN_COLUMNS =
  'hash, session_id, parent_hash, created_at, expires_at, consumed_at, successor_hash, successor_sealed';

export function tokenValues(token: RefreshTokenRecord): Value[] {
  return [
    token.hash,
    token.sessionId,
    token.parentHash,
    token.createdAt,
    token.expiresAt,
    token.consumedAt,
    token.successorHash,
    token.successorSealed,
  ];
}

/** Columns of `signing_keys` in the order `keyValues` gives them. */
export const KEY_COLUMNS = 'kid, alg, private_jwk, public_jwk, created_at, activates_at, retires_at';

export function keyValues(key: KeyRecord): Value[] {
  return [key.kid, key.alg, key.privateJwk, key.publicJwk, key.createdAt, key.activatesAt, key.retiresAt];
}

export function auditFromRow(row: Row): AuditRecord {
  return {
    id: int(row['id']),
    occurredAt: int(row['occurred_at']),
    actor: textOrNull(row['actor']),
    action: text(row['action']) as AuditAction,
    subject: textOrNull(row['subject']),
    ip: textOrNull(row['ip']),
    userAgent: textOrNull(row['user_agent']),
    detail: JSON.parse(text(row['detail'])) as AuditDetail,
  };
}

/** Columns of `audit_log` in the order `auditValues` gives them (the id is the database's). */
export const AUDIT_COLUMNS = 'occurred_at, actor, action, subject, ip, user_agent, detail';

export function auditValues(entry: AuditEntry): Value[] {
  return [
    entry.occurredAt,
    entry.actor,
    entry.action,
    entry.subject,
    entry.ip,
    entry.userAgent,
    JSON.stringify(entry.detail),
  ];
}
