import { amrOf } from '../rows.ts';
import type { RefreshTokenRecord, RevokeReason, RevokedSession, SessionRecord } from '../store.ts';

/**
 * Sessions and refresh tokens as Redis hashes, and revocation entries as the scripts write them.
 * Every value is a string (times in decimal milliseconds); a `null` field is simply absent, so
 * an empty string stays distinguishable from no value.
 */

/** A hash as `HGETALL` returns it inside a script reply: names and values, alternating. */
export type Flat = string[];

/** Fields to write, as a JSON object of strings (the scripts `HSET` them as they are). */
export type Fields = Record<string, string>;

function fields(record: Record<string, string | number | null>): Fields {
  const out: Fields = {};
  for (const [name, value] of Object.entries(record)) if (value !== null) out[name] = String(value);
  return out;
}

function read(flat: Flat): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i]!, flat[i + 1]!);
  return map;
}

const num = (map: Map<string, string>, name: string): number => Number(map.get(name));
const numOrNull = (map: Map<string, string>, name: string): number | null =>
  map.has(name) ? Number(map.get(name)) : null;
const textOrNull = (map: Map<string, string>, name: string): string | null => map.get(name) ?? null;

export function sessionFields(session: SessionRecord): Fields {
  return fields({ ...session, amr: session.amr.join(' ') });
}

/** The session of an `HGETALL` reply; `null` for an empty one (no such key). */
export function sessionFromFlat(flat: Flat | Record<string, string>): SessionRecord | null {
  const map = Array.isArray(flat) ? read(flat) : new Map(Object.entries(flat));
  if (!map.has('id')) return null;
  return {
    id: map.get('id')!,
    userId: map.get('userId') ?? '',
    createdAt: num(map, 'createdAt'),
    lastUsedAt: num(map, 'lastUsedAt'),
    expiresAt: num(map, 'expiresAt'),
    idleExpiresAt: num(map, 'idleExpiresAt'),
    accessExpiresAt: num(map, 'accessExpiresAt'),
    revokedAt: numOrNull(map, 'revokedAt'),
    revokeReason: textOrNull(map, 'revokeReason') as RevokeReason | null,
    userAgent: textOrNull(map, 'userAgent'),
    ip: textOrNull(map, 'ip'),
    amr: amrOf(textOrNull(map, 'amr')),
    authTime: numOrNull(map, 'authTime') ?? num(map, 'createdAt'),
  };
}

/** The session's version: bumped by every script that changes it or one of its tokens. */
export function versionOf(flat: Flat): string | null {
  return read(flat).get('ver') ?? null;
}

/** A token's fields; its hash is its key's name. */
export function tokenFields(token: RefreshTokenRecord): Fields {
  return fields({ ...token, hash: null });
}

export function tokenFromFlat(hash: string, flat: Flat): RefreshTokenRecord | null {
  const map = read(flat);
  if (!map.has('sessionId')) return null;
  return {
    hash,
    sessionId: map.get('sessionId')!,
    parentHash: textOrNull(map, 'parentHash'),
    createdAt: num(map, 'createdAt'),
    expiresAt: num(map, 'expiresAt'),
    consumedAt: numOrNull(map, 'consumedAt'),
    successorHash: textOrNull(map, 'successorHash'),
    successorSealed: textOrNull(map, 'successorSealed'),
  };
}

/**
 * A revocation entry as the scripts encode it, `["sessionId","userId","revokedAt","accessExpiresAt"]`
 * (strings throughout: Lua's number formatting would round 13-digit times); `null` if malformed.
 */
export function revokedFromEntry(entry: string): RevokedSession | null {
  try {
    return revokedFromValue(JSON.parse(entry));
  } catch {
    return null;
  }
}

/** An entry already parsed from JSON (a published batch is an array of them). */
export function revokedFromValue(value: unknown): RevokedSession | null {
  if (!Array.isArray(value) || value.length !== 4) return null;
  if (!value.every((item) => typeof item === 'string')) return null;
  const [sessionId, userId, revokedAt, accessExpiresAt] = value as [string, string, string, string];
  return { sessionId, userId, revokedAt: Number(revokedAt), accessExpiresAt: Number(accessExpiresAt) };
}

/** The entries of a script's reply (an array of encoded entries). */
export function revokedFromEntries(reply: unknown): RevokedSession[] {
  if (!Array.isArray(reply)) return [];
  return reply.flatMap((entry) => {
    const revoked = typeof entry === 'string' ? revokedFromEntry(entry) : null;
    return revoked ? [revoked] : [];
  });
}
