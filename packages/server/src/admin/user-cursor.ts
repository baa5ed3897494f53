import type { UserCursor } from '../stores/store.ts';

/**
 * The text of a user-page cursor, shared by `GET /admin/users` (`next`) and `tessera users list`
 * (`--cursor`), so a cursor from either works in both: the last user's creation time and id,
 * base64url. Opaque to clients.
 */
export function encodeUserCursor(cursor: UserCursor): string {
  return Buffer.from(`${cursor.createdAt}:${cursor.id}`).toString('base64url');
}

/** Reads a cursor back; `null` for any text `encodeUserCursor` did not produce. */
export function decodeUserCursor(text: string): UserCursor | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(text)) return null;
  const match = /^(\d{1,16}):(.{1,64})$/s.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (!match?.[1] || !match[2]) return null;
  return { createdAt: Number(match[1]), id: match[2] };
}
