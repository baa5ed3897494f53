import type {
  KeyRecord,
  RefreshTokenRecord,
  RevokeReason,
  Role,
  SessionRecord,
  UserRecord,
} from '../store.ts';

/** A row as `node:sqlite` returns it. */
export type Row = Record<string, unknown>;

const text = (value: unknown): string =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
const textOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
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
  };
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
