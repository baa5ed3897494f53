import { decodeUserCursor } from '@tessera/server';
import { UsageError } from './usage-error.ts';

export { encodeUserCursor } from '@tessera/server';

/** Reads `--cursor` back; anything this command (or the admin API) did not print is a usage error. */
export function parseCursorOption(text: string): NonNullable<ReturnType<typeof decodeUserCursor>> {
  const cursor = decodeUserCursor(text);
  if (cursor === null) throw new UsageError(`--cursor "${text}" is not a cursor printed by users list`);
  return cursor;
}
